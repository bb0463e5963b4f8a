import type pg from 'pg';
import { insertNotifying } from '../expenzy/bulk.js';
import { seededRandom } from '../expenzy/random.js';
import { comparePayouts, loadExpenzy, loadHolvi, reportFrom } from '../tools/report/index.js';

/** The bench's reads and writes of both databases. Every time is PostgreSQL's clock (one cluster). */

/**
 * N payouts waiting in `notifying`, written straight into the simulator's table
 * (expenzy/bulk.ts); ids and amounts follow from the seed. The table is analyzed after the
 * insert, so whichever pipeline runs first does not pay for a planner without statistics.
 */
export async function seedNotifying(pool: pg.Pool, count: number, seed: number): Promise<void> {
  await insertNotifying(pool, count, seededRandom(seed));
}

/** Payouts through the simulator's admin route (as the producer makes them), for warm-ups. */
export async function createThroughSimulator(expenzyUrl: string, count: number): Promise<void> {
  for (let left = count; left > 0; left -= 1000) {
    const response = await fetch(`${expenzyUrl}/admin/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: Math.min(left, 1000), malformed: null }),
    });
    if (!response.ok) throw new Error(`POST /admin/payouts: ${response.status}`);
    await response.arrayBuffer();
  }
}

/** PostgreSQL's clock, in epoch milliseconds (fractional). */
/** Empties both sides: Holvi's tables (as their owner; the service role may not) and Expenzy's. */
export async function emptyBothSides(holviOwner: pg.Pool, expenzyOwner: pg.Pool): Promise<void> {
  // Every holvi_ table but the fence's row and the migrations' bookkeeping, then fresh statistics:
  // each run starts from the same database, whatever ran before it.
  await holviOwner.query(
    `TRUNCATE holvi_received_payout, holvi_rejected_payout, holvi_sync_pass, holvi_pass_payout,
              holvi_pass_rejected, holvi_pass_settle RESTART IDENTITY`,
  );
  await holviOwner.query('ANALYZE');
  await expenzyOwner.query('TRUNCATE expenzy_transaction');
}

export async function pgNow(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ ms: string }>(
    'SELECT (extract(epoch from clock_timestamp()) * 1000)::text AS ms',
  );
  return Number(rows[0]!.ms);
}

export interface HolviProgress {
  recorded: number;
  confirmed: number;
  /** Epoch ms of the last confirmation, or null. */
  lastConfirmedMs: number | null;
}

export async function holviProgress(pool: pg.Pool): Promise<HolviProgress> {
  const { rows } = await pool.query<{ recorded: number; confirmed: number; last: string | null }>(
    `SELECT count(*)::int AS recorded, count(processing_confirmed_at)::int AS confirmed,
            (extract(epoch from max(processing_confirmed_at)) * 1000)::text AS last
       FROM holvi_received_payout`,
  );
  const row = rows[0]!;
  return {
    recorded: row.recorded,
    confirmed: row.confirmed,
    lastConfirmedMs: row.last === null ? null : Number(row.last),
  };
}

/** Payouts at Expenzy: all of them, and those still `notifying` (the sync's backlog). */
export async function expenzyCounts(pool: pg.Pool): Promise<{ total: number; notifying: number }> {
  const { rows } = await pool.query<{ total: number; notifying: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE state = 'notifying')::int AS notifying
       FROM expenzy_transaction`,
  );
  return rows[0]!;
}

/** Polls until `count` payouts are confirmed in Holvi, or throws at the deadline. */
export async function waitConfirmed(
  pool: pg.Pool,
  count: number,
  timeoutMs: number,
  intervalMs = 100,
): Promise<HolviProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await holviProgress(pool);
    if (progress.confirmed >= count) return progress;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms: ${progress.recorded} recorded, ${progress.confirmed} of ${count} confirmed`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Milliseconds after `t0` at which each payout was recorded and confirmed, both sorted. */
export async function completionTimes(
  pool: pg.Pool,
  t0Ms: number,
): Promise<{ recorded: number[]; confirmed: number[] }> {
  const { rows } = await pool.query<{ recorded: string; confirmed: string | null }>(
    `SELECT (extract(epoch from received_at) * 1000 - $1)::float8::text AS recorded,
            (extract(epoch from processing_confirmed_at) * 1000 - $1)::float8::text AS confirmed
       FROM holvi_received_payout`,
    [t0Ms],
  );
  const recorded = rows.map((row) => Number(row.recorded)).sort((a, b) => a - b);
  const confirmed = rows
    .flatMap((row) => (row.confirmed === null ? [] : [Number(row.confirmed)]))
    .sort((a, b) => a - b);
  return { recorded, confirmed };
}

/**
 * The end-to-end latencies (Expenzy create_time → Holvi received_at / processing_confirmed_at,
 * in ms) and the consistency verdict, through the report tool's own loading and comparison.
 */
export async function latenciesAndReport(holviPool: pg.Pool, expenzyPool: pg.Pool) {
  const comparison = comparePayouts(await loadHolvi(holviPool), await loadExpenzy(expenzyPool));
  const report = reportFrom(comparison, false);
  return {
    toRecordedMs: comparison.toReceivedMicros.map((micros) => micros / 1000),
    toProcessingMs: comparison.toConfirmedMicros.map((micros) => micros / 1000),
    consistent: report.consistent,
    failedChecks: report.checks.filter((check) => check.status === 'FAIL').map((check) => check.label),
    maxUpdateCount: report.updates.max,
  };
}

/** The ids of the payouts still `notifying` at Expenzy (read from its table, not through its API). */
export async function notifyingIds(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id::text AS id FROM expenzy_transaction WHERE state = 'notifying'`,
  );
  return rows.map((row) => row.id);
}

/** Expenzy's side alone: payouts per state and the most updates one payout received. */
export async function expenzyStates(
  pool: pg.Pool,
): Promise<{ total: number; notifying: number; processing: number; maxUpdateCount: number }> {
  const { rows } = await pool.query<{
    total: number;
    notifying: number;
    processing: number;
    max_update_count: number;
  }>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE state = 'notifying')::int AS notifying,
            count(*) FILTER (WHERE state = 'processing')::int AS processing,
            coalesce(max(state_update_count), 0)::int AS max_update_count
       FROM expenzy_transaction`,
  );
  const { total, notifying, processing, max_update_count: maxUpdateCount } = rows[0]!;
  return { total, notifying, processing, maxUpdateCount };
}

/** The simulator's public API calls since it started (GET /admin/calls; expenzy/README.md). */
export interface SimulatorCalls {
  list: { calls: number; failed: number };
  update: { calls: number; failed: number };
}

export async function simulatorCalls(expenzyUrl: string): Promise<SimulatorCalls> {
  const response = await fetch(`${expenzyUrl}/admin/calls`);
  if (!response.ok) throw new Error(`GET /admin/calls: ${response.status}`);
  return (await response.json()) as SimulatorCalls;
}

/** The calls between two readings, as figures. */
export function callFigures(before: SimulatorCalls, after: SimulatorCalls, payouts: number) {
  const updateCalls = after.update.calls - before.update.calls;
  return {
    listCalls: after.list.calls - before.list.calls,
    listCallsFailed: after.list.failed - before.list.failed,
    updateCalls,
    updateCallsFailed: after.update.failed - before.update.failed,
    updateCallsPerPayout: payouts > 0 ? updateCalls / payouts : null,
  };
}
