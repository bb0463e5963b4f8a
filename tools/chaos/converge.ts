import { setTimeout as sleep } from 'node:timers/promises';
import { buildReport, type Report } from '../report/index.js';
import type { StackClients } from './clients.js';

export interface Convergence {
  converged: boolean;
  /** From the call to the first consistent report (or to giving up). */
  elapsedMs: number;
  /** The last report read (null if none could be read, e.g. the database stayed down). */
  report: Report | null;
  /** Why the last report could not be read, if it could not; or why the wait was given up. */
  lastError?: string;
}

export interface ConvergenceOptions {
  timeoutMs: number;
  allowRepeatedUpdates?: boolean;
  /** Expenzy must hold at least this many payouts (all the scenario created). */
  expectedPayouts?: number;
  pollMs?: number;
  /** How long repeated updates, as the report's only failure, must stay unchanged before giving up. */
  giveUpAfterMs?: number;
}

export function reportOnce(clients: StackClients, allowRepeatedUpdates = false): Promise<Report> {
  return buildReport({
    holviPool: clients.holviPool,
    expenzyPool: clients.expenzyPool,
    allowRepeatedUpdates,
  });
}

/**
 * Polls the report (tools/report.ts) until it is consistent — nothing missing, no duplicate,
 * no mismatch, every payout recorded is confirmed at the partner — or the time is up.
 * A payout updated twice stays so: once repeated updates are the report's only failure and
 * have not changed for `giveUpAfterMs`, waiting longer cannot help, and the wait ends there
 * (a failing scenario then ends in seconds, not at its timeout, with the final figures).
 */
export async function waitForConvergence(
  clients: StackClients,
  {
    timeoutMs,
    allowRepeatedUpdates = false,
    expectedPayouts = 0,
    pollMs = 500,
    giveUpAfterMs = 5_000,
  }: ConvergenceOptions,
): Promise<Convergence> {
  const started = performance.now();
  let report: Report | null = null;
  let lastError: string | undefined;
  let repeated: { figures: string; since: number } | null = null;
  for (;;) {
    try {
      report = await reportOnce(clients, allowRepeatedUpdates);
      lastError = undefined;
      if (report.consistent && report.expenzy.total >= expectedPayouts) {
        return { converged: true, elapsedMs: performance.now() - started, report };
      }
      const failed = report.checks.filter((check) => check.status === 'FAIL').map((check) => check.key);
      if (failed.length === 1 && failed[0] === 'maxUpdateCount' && report.expenzy.total >= expectedPayouts) {
        const { max, repeated: payouts } = report.updates;
        const figures = `${payouts.count} payouts updated more than once (max update count ${max})`;
        if (repeated === null || repeated.figures !== figures)
          repeated = { figures, since: performance.now() };
        else if (performance.now() - repeated.since >= giveUpAfterMs) {
          lastError = `gave up waiting: ${figures}, which cannot be undone`;
          return { converged: false, elapsedMs: performance.now() - started, report, lastError };
        }
      } else repeated = null;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (performance.now() - started > timeoutMs) {
      return { converged: false, elapsedMs: performance.now() - started, report, lastError };
    }
    await sleep(pollMs);
  }
}
