import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../report/index.js';
import { readFrom, size } from './api-log.js';
import { callJson, type PendingActivity } from './clients.js';
import type { ScenarioContext } from './scenario.js';

/**
 * Steps the window scenarios take, all from outside the services: payouts made at the partner,
 * webhooks, and what Temporal's server and the partner's database show. None depends on the
 * input or result of an activity, only on the activity types the Web UI shows.
 */

/** Polls `probe` every `everyMs` until it returns a value (not null, undefined or false); null once `timeoutMs` is over. */
export async function poll<T>(
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T | null> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (performance.now() > deadline) return null;
    await sleep(everyMs);
  }
}

/**
 * `count` valid payouts made at once through the simulator's admin route, without webhooks: a
 * backlog, as after an outage of the webhook sender. Counted in `figures.created`, which the
 * runner waits for.
 */
export async function createBacklog({ clients, figures }: ScenarioContext, count: number): Promise<void> {
  for (let made = 0; made < count; made += 1000) {
    const chunk = Math.min(1000, count - made);
    await callJson(
      `${clients.addresses.expenzyUrl}/admin/payouts`,
      'POST',
      { count: chunk, malformed: null },
      60_000,
    );
    figures.created = Number(figures.created) + chunk;
  }
}

/** One webhook, as Expenzy sends it: the API signals (or signal-with-starts) the sync. */
export async function webhook({ clients }: ScenarioContext): Promise<void> {
  const response = await fetch(`${clients.addresses.apiUrl}/expenzy/webhook/`, {
    signal: AbortSignal.timeout(10_000),
  });
  await response.text();
}

/**
 * Returns once a sync pass that started after this call has ended: the next reconciliation
 * pass is then RECONCILE_INTERVAL away, long enough to make a backlog that the next pass sees
 * whole. False if no such pass was seen within `timeoutMs`.
 */
export async function afterQuietPass(context: ScenarioContext, timeoutMs = 30_000): Promise<boolean> {
  const asked = new Date().toISOString();
  await webhook(context);
  const quiet = await poll(async () => {
    const status = await context.clients.syncStatus();
    return status !== null && !status.passRunning && (status.lastPassStartedAt ?? '') >= asked;
  }, timeoutMs);
  return quiet === true;
}

/**
 * The first pending activity of the sync of this type that runs on a worker now (of at least
 * `minAttempt`), as the server shows it; null when none did within `timeoutMs`.
 */
export function startedActivity(
  { clients }: ScenarioContext,
  type: string,
  {
    minAttempt = 1,
    timeoutMs = 30_000,
    workflowId,
  }: { minAttempt?: number; timeoutMs?: number; workflowId?: string } = {},
): Promise<PendingActivity | null> {
  return poll(
    async () => {
      const pending = await clients.pendingActivities(workflowId, 1_000);
      return pending?.find(
        (activity) => activity.type === type && activity.started && activity.attempt >= minAttempt,
      );
    },
    timeoutMs,
    50,
  );
}

/** Payouts the partner still holds as `notifying` (its own table, as the report reads it). */
export async function notifyingAtPartner({ clients }: ScenarioContext): Promise<number> {
  const { rows } = await clients.expenzyPool.query<{ count: string }>(
    "SELECT count(*) AS count FROM expenzy_transaction WHERE state = 'notifying'",
  );
  return Number(rows[0]?.count ?? 0);
}

/** The worker service (worker or worker2) whose process has this pid, if one has. */
export function workerWithPid({ stack }: ScenarioContext, pid: number | null): 'worker' | 'worker2' | null {
  if (pid === null) return null;
  if (stack.pid('worker') === pid) return 'worker';
  if (stack.pid('worker2') === pid) return 'worker2';
  return null;
}

/** The invariant, named in the scenario's checks: no payout updated twice at the partner. */
export function checkUpdatedOnce({ check, figures }: ScenarioContext, report: Report): void {
  figures.payoutsUpdatedTwice = report.updates.repeated.count;
  check(
    'max update count 1',
    report.updates.max <= 1,
    `max update count ${report.updates.max}, ${report.updates.repeated.count} payouts updated more than once`,
  );
}

/** A service's log from the moment this is made on: e.g. what the Temporal SDK warns about. */
export class LogWindow {
  private readonly from: number;

  constructor(private readonly file: string) {
    this.from = size(file);
  }

  /** Lines that contain `text`. */
  count(text: string): number {
    return readFrom(this.file, this.from)
      .split('\n')
      .filter((line) => line.includes(text)).length;
  }
}
