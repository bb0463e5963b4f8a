import type { Scale, Sizes } from './scenario.js';

/** The chaos stack's RECONCILE_INTERVAL: lost webhooks are found this often. */
export const RECONCILE_INTERVAL_SECONDS = 5;

/**
 * `full` is `make chaos` (the figures: ≥ 5 kills, 20 s outage, 20,000 webhooks at 200
 * concurrent, ≥ 5,000 payouts all at once); `small` is the vitest suite, a few minutes on 2 cores.
 */
const sizes: Record<Scale, Sizes> = {
  small: {
    payouts: 200,
    sleepSeconds: 0.01,
    concurrency: 20,
    kills: 2,
    killAim: 'MarkProcessing',
    temporalRestarts: 1,
    outageSeconds: 5,
    latencyPayouts: 60,
    floodAmount: 2_000,
    floodConnections: 100,
    // The API's own answer time (its log): a webhook does not wait for Temporal while signals
    // are accepted, so the bound holds at this size too.
    floodP99LimitMs: 50,
    everythingPayouts: 300,
    everythingLatencyMs: '20-150',
    strayPayouts: 300,
    backlogPayouts: 300,
    refusedPayouts: 10_000,
    convergeTimeoutMs: 150_000,
    settleMs: 2_000,
  },
  full: {
    payouts: 2_000,
    sleepSeconds: 0.01,
    concurrency: 50,
    kills: 5,
    killAim: 'any',
    temporalRestarts: 2,
    outageSeconds: 20,
    latencyPayouts: 300,
    floodAmount: 20_000,
    floodConnections: 200,
    floodP99LimitMs: 50,
    everythingPayouts: 5_000,
    everythingLatencyMs: '50-250',
    strayPayouts: 1_500,
    backlogPayouts: 1_000,
    refusedPayouts: 10_000,
    convergeTimeoutMs: 600_000,
    settleMs: 6_000,
  },
};

export function sizesFor(scale: Scale): Sizes {
  return { ...sizes[scale] };
}
