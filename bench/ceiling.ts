// NOT PART OF THE PRODUCT, and independent of it: imports nothing from src/. The benchmark's
// upper bound: how fast the simulator applies `state=processing` updates when a plain client
// sends them with `parallel` calls in flight (the worker's EXPENZY_MAX_PARALLEL_CALLS), with
// no Holvi work at all: no list, no PostgreSQL on Holvi's side, no Temporal.
//
// The client is shaped like Holvi's partner client (undici, keep-alive connections, as many
// connections as calls in flight, form-encoded POST, the body read whole) and does the least
// work it can: a 5xx or a network error puts the payout back at the end of the queue at once
// (no backoff), `[]` is counted and not retried, anything else is counted as applied.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

export interface CeilingOutcome {
  /** Payouts the partner answered with a non-empty list (applied). */
  applied: number;
  /** Payouts answered `[]` (not applied: unknown id); not retried. */
  notApplied: number;
  /** Update calls sent, retries included. */
  calls: number;
  /** Calls answered 5xx or failed on the network (each retried). */
  failedCalls: number;
  /** First call sent → last answer received. */
  elapsedMs: number;
  /** When each payout was applied, in ms since the first call, sorted (for the chart). */
  appliedAtMs: number[];
}

export interface CeilingOptions {
  /** Calls in flight at once. */
  parallel: number;
  /** Longest wait for one call (ms). */
  callTimeoutMs?: number;
  /** A payout whose update failed this many times stops the run (the partner is down). */
  maxAttemptsPerPayout?: number;
}

/**
 * Sets every payout of `ids` to `processing` at the simulator at `baseUrl`, `parallel` calls in
 * flight, and times it. Throws when a payout cannot be updated within `maxAttemptsPerPayout`.
 */
export async function sendProcessingUpdates(
  baseUrl: string,
  ids: readonly string[],
  options: CeilingOptions,
): Promise<CeilingOutcome> {
  const { parallel, callTimeoutMs = 10_000, maxAttemptsPerPayout = 50 } = options;
  const agent = new Agent({
    connections: parallel,
    headersTimeout: callTimeoutMs,
    bodyTimeout: callTimeoutMs,
  });
  // A queue read with an index (shift() on 100,000 ids would copy the array each time).
  const queue = [...ids];
  let next = 0;
  const attempts = new Map<string, number>();
  const outcome: CeilingOutcome = {
    applied: 0,
    notApplied: 0,
    calls: 0,
    failedCalls: 0,
    elapsedMs: 0,
    appliedAtMs: [],
  };
  const body = new URLSearchParams({ state: 'processing' }).toString();
  const started = performance.now();
  let stopped: Error | undefined;

  async function sendOne(id: string): Promise<void> {
    outcome.calls++;
    try {
      const response = await request(new URL(`/api/transaction/${encodeURIComponent(id)}/`, baseUrl), {
        method: 'POST',
        dispatcher: agent,
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(callTimeoutMs),
      });
      const text = await response.body.text();
      if (response.statusCode === 200) {
        if (text.trim() === '[]') outcome.notApplied++;
        else {
          outcome.applied++;
          outcome.appliedAtMs.push(performance.now() - started);
        }
        return;
      }
      if (response.statusCode < 500) {
        throw new Error(`update of ${id} answered ${response.statusCode}: ${text.slice(0, 200)}`);
      }
    } catch (error) {
      // A refusal (4xx) is a bug in the client, not a fault to retry.
      if (error instanceof Error && error.message.startsWith('update of ')) throw error;
    }
    outcome.failedCalls++;
    const tried = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, tried);
    if (tried >= maxAttemptsPerPayout) {
      throw new Error(`update of ${id} failed ${tried} times: the simulator is not answering`);
    }
    queue.push(id);
  }

  async function lane(): Promise<void> {
    while (!stopped) {
      if (next >= queue.length) return;
      const id = queue[next++]!;
      try {
        await sendOne(id);
      } catch (error) {
        stopped ??= error as Error;
      }
    }
  }

  try {
    // A lane ends when the queue is empty; a payout put back by a failure is taken by a lane
    // still running (at least the one that put it back).
    await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  } finally {
    outcome.elapsedMs = performance.now() - started;
    await agent.close();
  }
  if (stopped) throw stopped;
  outcome.appliedAtMs.sort((a, b) => a - b);
  return outcome;
}
