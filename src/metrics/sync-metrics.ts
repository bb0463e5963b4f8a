import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PartnerCall } from '../partner/expenzy-client.js';

/** The worker's application metrics (the Temporal SDK's own come from the runtime). */
export function createSyncMetrics(registry: Registry) {
  let oldestNotifyingCreateTime: number | null = null;
  const registers = [registry];

  const partnerCalls = new Counter({
    name: 'expenzy_partner_calls_total',
    help: 'Calls to the Expenzy API by operation, outcome and HTTP status',
    labelNames: ['operation', 'outcome', 'status'] as const,
    registers,
  });
  const partnerCallSeconds = new Histogram({
    name: 'expenzy_partner_call_duration_seconds',
    help: 'Duration of calls to the Expenzy API',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const backlog = new Gauge({
    name: 'expenzy_notifying_backlog',
    help: 'Valid payouts in state notifying seen in the last fetch',
    registers,
  });
  new Gauge({
    name: 'expenzy_oldest_unrecorded_payout_age_seconds',
    help: 'Age of the oldest notifying payout seen in the last fetch (0 when none)',
    registers,
    collect() {
      this.set(
        oldestNotifyingCreateTime === null ? 0 : Math.max(0, (Date.now() - oldestNotifyingCreateTime) / 1000),
      );
    },
  });

  const counter = (name: string, help: string) => {
    const metric = new Counter({ name, help, registers });
    return () => metric.inc();
  };

  return {
    payoutsRecorded: new Counter({
      name: 'holvi_payouts_recorded_total',
      help: 'Payouts inserted into holvi_received_payout',
      registers,
    }),
    payoutsMarked: new Counter({
      name: 'holvi_payouts_marked_total',
      help: 'Payouts confirmed processing at Expenzy',
      registers,
    }),
    payoutsRejected: new Counter({
      name: 'holvi_payouts_rejected_total',
      help: 'Malformed payouts quarantined',
      registers,
    }),
    listsCut: new Counter({
      name: 'expenzy_lists_cut_total',
      help: 'Lists of notifying payouts cut at a cap (EXPENZY_MAX_LIST_RESPONSE_BYTES or EXPENZY_LIST_TIMEOUT): the backlog is larger than one pass reads',
      registers,
    }),
    quarantineRefusedForGood: new Counter({
      name: 'holvi_quarantine_refused_for_good_total',
      help: 'Quarantined payouts that cannot be set to error at the partner (no id): a person must look',
      registers,
    }),
    quarantineRefusedForNow: new Counter({
      name: 'holvi_quarantine_refusals_retried_total',
      help: 'Refusals of the partner to set a quarantined payout to error, tried again later with backoff',
      registers,
    }),
    recordedInError: new Counter({
      name: 'holvi_recorded_payouts_in_error_total',
      help: 'Recorded payouts found in state error at the partner: final, a person must look',
      registers,
    }),
    /** The fence's events (src/fence/sync-fence.ts). */
    fence: {
      waited: counter(
        'holvi_fence_waits_total',
        'Times a step found the fence held by another and backed off',
      ),
      uncleanHandover: counter(
        'holvi_fence_unclean_handovers_total',
        'Fence take-overs after a holder that never released it (it died or lost its session)',
      ),
      lost: counter(
        'holvi_fence_lost_total',
        'Fence sessions lost while held (their partner calls were aborted)',
      ),
    },
    observePartnerCall(call: PartnerCall) {
      partnerCalls.inc({
        operation: call.operation,
        outcome: call.outcome,
        status: call.status === null ? 'none' : String(call.status),
      });
      partnerCallSeconds.observe({ operation: call.operation }, call.durationMs / 1000);
    },
    observeBacklog(count: number, oldestCreateTime: string | undefined) {
      backlog.set(count);
      oldestNotifyingCreateTime = oldestCreateTime ? Date.parse(oldestCreateTime) : null;
    },
  };
}

export type SyncMetrics = ReturnType<typeof createSyncMetrics>;
