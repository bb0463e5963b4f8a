import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import {
  RECONCILE_INTERVAL_BOUNDS,
  payoutsAvailableSignal,
  statusQuery,
  workerSettingsSignal,
  type SyncCounters,
  type SyncInput,
  type SyncSettings,
  type SyncStatus,
} from '../shared.js';
import { fetchOptions, markOptions, recordOptions } from './activity-options.js';

const { FetchTransactions } = proxyActivities<SyncActivities>(fetchOptions);
const { RecordPayout } = proxyActivities<SyncActivities>(recordOptions);
const { MarkProcessing, QuarantinePayouts } = proxyActivities<SyncActivities>(markOptions);

/** A run continues as new after this many passes (or earlier when Temporal suggests it). */
export const MAX_PASSES_PER_RUN = 100;
/**
 * ... or once its history has this many events (signals add up under webhook floods). A signal
 * that lands during the continue-as-new fails that workflow task, and its retry replays the
 * whole run: a short history keeps that pause, during which webhooks wait, well under a second.
 */
export const MAX_HISTORY_EVENTS = 1_000;

/**
 * The singleton sync. A webhook's signal asks for a pass; a pass fetches the oldest batch of
 * `notifying` payouts, records them, and marks them `processing`. Passes repeat while work
 * remains or a signal came in meanwhile; without signals a reconciliation pass still runs
 * every `reconcileIntervalMs`, because Expenzy never retries a lost webhook.
 */
export async function expenzySync(input: SyncInput): Promise<void> {
  const counters: SyncCounters = input.counters ?? {
    passes: 0,
    recorded: 0,
    marked: 0,
    rejected: 0,
    signals: 0,
  };
  const status: SyncStatus = {
    ...counters,
    pending: input.pending ?? true,
    passRunning: false,
    lastPassStartedAt: null,
    lastPassEndedAt: null,
    lastBacklog: 0,
    runPasses: 0,
    reconcileIntervalMs: input.reconcileIntervalMs,
  };

  setHandler(payoutsAvailableSignal, () => {
    status.pending = true;
    counters.signals++;
  });
  setHandler(workerSettingsSignal, (settings) => {
    // A worker of the previous version, without this handler, may have taken such a signal
    // during a rolling deploy: for it, the signal changed nothing, and so it must in replay.
    if (!patched('worker-settings-signal')) return;
    applySettings(status, settings);
    status.pending = true; // a worker just started: look at the list now
  });
  setHandler(statusQuery, () => ({ ...status, ...counters }));

  for (;;) {
    await condition(() => status.pending, status.reconcileIntervalMs);
    let more = true;
    while ((more || status.pending) && !runIsFull(status)) {
      status.pending = false;
      more = await runPass(counters, status);
    }
    if (runIsFull(status)) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof expenzySync>({
        reconcileIntervalMs: status.reconcileIntervalMs,
        counters,
        pending: status.pending || more,
      });
    }
  }
}

/** Takes a worker's settings; a value out of bounds is logged and left out. */
function applySettings(status: SyncStatus, settings: SyncSettings | undefined): void {
  const ms = settings?.reconcileIntervalMs;
  const { minMs, maxMs } = RECONCILE_INTERVAL_BOUNDS;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < minMs || ms > maxMs) {
    log.warn('worker settings ignored: reconcileIntervalMs out of bounds', { settings });
    return;
  }
  if (ms !== status.reconcileIntervalMs) {
    log.info('reconciliation interval changed', { from: status.reconcileIntervalMs, to: ms });
    status.reconcileIntervalMs = ms;
  }
}

/** One pass. Returns whether another pass has work (payouts left and this one made progress). */
async function runPass(counters: SyncCounters, status: SyncStatus): Promise<boolean> {
  status.passRunning = true;
  status.lastPassStartedAt = new Date().toISOString();
  const fetched = await FetchTransactions();
  let progressed = false;
  let retryLater = 0;
  counters.marked += fetched.settled ?? 0; // absent from results recorded before it existed

  // Money first: a partner slow to accept `error` for malformed payouts never delays valid ones.
  if (fetched.payouts.length > 0) {
    const recorded = await RecordPayout(fetched.payouts);
    counters.recorded += recorded.inserted;
    progressed ||= recorded.inserted > 0;
    const ids = fetched.payouts.map((payout) => payout.expenzyId);
    const marked = await orLeaveToNextPass(MarkProcessing(ids), ids.length);
    if (marked) {
      counters.marked += marked.marked + marked.alreadyProcessing;
      progressed ||= marked.marked + marked.alreadyProcessing > 0;
      retryLater += marked.retryLater;
      if (marked.failed.length > 0) {
        log.warn('payouts the partner refused to mark', { failed: marked.failed.slice(0, 20) });
      }
    }
  }
  if (fetched.rejected.length > 0) {
    const quarantined = await orLeaveToNextPass(QuarantinePayouts(fetched.rejected), fetched.rejected.length);
    if (quarantined) {
      counters.rejected += quarantined.quarantined;
      progressed ||= quarantined.quarantined + quarantined.setToError > 0;
      retryLater += quarantined.retryLater;
    }
  }

  counters.passes++;
  status.runPasses++;
  status.lastBacklog = fetched.remaining;
  status.passRunning = false;
  status.lastPassEndedAt = new Date().toISOString();
  return fetched.remaining + retryLater > 0 && progressed;
}

/**
 * A partner call that failed through all its attempts is not lost: its payouts are still
 * listed, so a later pass (the next signal, or the reconciliation timer) takes them again.
 */
async function orLeaveToNextPass<T>(activity: Promise<T>, payouts: number): Promise<T | undefined> {
  try {
    return await activity;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('partner calls gave up after their retries; left to a later pass', {
      payouts,
      error: error.cause?.message,
    });
    return undefined;
  }
}

function runIsFull(status: SyncStatus): boolean {
  if (status.runPasses >= MAX_PASSES_PER_RUN || workflowInfo().continueAsNewSuggested) return true;
  // Added after runs were recorded without it: patched() keeps their replay deterministic.
  return patched('bound-history-length') && workflowInfo().historyLength >= MAX_HISTORY_EVENTS;
}
