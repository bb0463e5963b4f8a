import { setTimeout as sleep } from 'node:timers/promises';
import { buildReport, type Report } from '../report.js';
import type { StackClients } from './clients.js';

export interface Convergence {
  converged: boolean;
  /** From the call to the first consistent report (or to giving up). */
  elapsedMs: number;
  /** The last report read (null if none could be read, e.g. the database stayed down). */
  report: Report | null;
  /** Why the last report could not be read, if it could not. */
  lastError?: string;
}

export interface ConvergenceOptions {
  timeoutMs: number;
  allowRepeatedUpdates?: boolean;
  /** Expenzy must hold at least this many payouts (all the scenario created). */
  expectedPayouts?: number;
  pollMs?: number;
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
 */
export async function waitForConvergence(
  clients: StackClients,
  { timeoutMs, allowRepeatedUpdates = false, expectedPayouts = 0, pollMs = 500 }: ConvergenceOptions,
): Promise<Convergence> {
  const started = performance.now();
  let report: Report | null = null;
  let lastError: string | undefined;
  for (;;) {
    try {
      report = await reportOnce(clients, allowRepeatedUpdates);
      lastError = undefined;
      if (report.consistent && report.expenzy.total >= expectedPayouts) {
        return { converged: true, elapsedMs: performance.now() - started, report };
      }
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (performance.now() - started > timeoutMs) {
      return { converged: false, elapsedMs: performance.now() - started, report, lastError };
    }
    await sleep(pollMs);
  }
}
