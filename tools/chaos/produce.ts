import { setTimeout as sleep } from 'node:timers/promises';
import { producePayouts, ProducerError, type ProducerSummary } from '../../expenzy/producer.js';
import { defaultProducerOptions } from '../../expenzy/producer-options.js';

/**
 * Expenzy's producer (expenzy/producer.ts), run in the background while faults are injected.
 * The producer stops at the first payout it could not create (the simulator answers 500 while
 * its database restarts); here it is started again for the payouts still to make, as the
 * partner's own system would carry on.
 */
export interface ProductionOptions {
  count: number;
  /** Webhooks in flight at once. */
  concurrency: number;
  /** Seconds between two creations. */
  sleepSeconds: number;
  /** Share of webhooks deliberately not sent. */
  webhookDropRate?: number;
  expenzyUrl: string;
  apiUrl: string;
}

export interface ProductionTotals {
  created: number;
  webhooksSent: number;
  webhooksFailed: number;
  webhooksDropped: number;
  /** Times creation failed and the producer was started again. */
  creationFailures: number;
  elapsedMs: number;
}

export interface Production {
  /** Payouts created so far. */
  created(): number;
  /** Resolves once `n` payouts exist (or production ended). */
  reached(n: number): Promise<void>;
  done: Promise<ProductionTotals>;
}

const MAX_CREATION_FAILURES = 200;

export function startProduction(options: ProductionOptions): Production {
  const totals: ProductionTotals = {
    created: 0,
    webhooksSent: 0,
    webhooksFailed: 0,
    webhooksDropped: 0,
    creationFailures: 0,
    elapsedMs: 0,
  };
  let inRun = 0; // payouts created by the producer run in progress
  let finished = false;
  const started = performance.now();

  const add = (summary: ProducerSummary) => {
    totals.created += summary.payoutsCreated;
    totals.webhooksSent += summary.webhooksSent;
    totals.webhooksFailed += summary.webhooksFailed;
    totals.webhooksDropped += summary.webhooksDropped;
    inRun = 0;
  };

  const run = async (): Promise<ProductionTotals> => {
    try {
      while (totals.created < options.count) {
        try {
          const summary = await producePayouts(
            {
              ...defaultProducerOptions,
              attempts: options.count - totals.created,
              concurrency: options.concurrency,
              sleepBetweenPayouts: options.sleepSeconds,
              webhookDropRate: options.webhookDropRate ?? 0,
              expenzyBaseUrl: options.expenzyUrl,
              holviBaseUrl: options.apiUrl,
              webhookTimeoutMs: 10_000,
            },
            { onProgress: (progress) => (inRun = progress.payoutsCreated) },
          );
          add(summary);
        } catch (error) {
          if (!(error instanceof ProducerError)) throw error;
          add(error.summary);
          if (++totals.creationFailures > MAX_CREATION_FAILURES) throw error;
          await sleep(250);
        }
      }
      totals.elapsedMs = Math.round(performance.now() - started);
      return totals;
    } finally {
      finished = true;
    }
  };

  const created = () => totals.created + inRun;
  const done = run();
  done.catch(() => undefined); // awaited by the scenario; no unhandled rejection meanwhile
  return {
    created,
    async reached(n) {
      while (!finished && created() < n) await sleep(50);
    },
    done,
  };
}
