import type pg from 'pg';
import { pgText } from './pg-text.js';
import { refusalReason, rowRefusal, type RowRefusal } from './refusal.js';

/**
 * Every statement on Holvi's tables (`holvi_*`), so that the exactly-once rules read in one
 * place. The activities decide when; these say what. Values go in as parameters only.
 *
 * - holvi_received_payout: one row per payout, ever (unique expenzy_uuid, ON CONFLICT DO NOTHING);
 *   processing_confirmed_at once the partner confirmed our update.
 * - holvi_rejected_payout: malformed payouts, with their raw JSON and reason; refused_uuid for
 *   a payout PostgreSQL refused to record (quarantined from then on).
 * - holvi_sync_pass: one row per list taken inside the fence (the fence's own row: src/fence/fence-sql.ts).
 * - holvi_pass_*: what a pass listed, staged for its activities (pass id and seq ranges).
 */
export type Db = pg.Pool | pg.ClientBase;

// --- A pass: the list taken inside the fence, staged ---

export interface PassStart {
  passId: number;
  epoch: number;
}

/**
 * Inside the fence, before the list is taken: a new epoch (older passes may no longer send) and
 * the pass row with the highest recorded id so far.
 */
export async function beginPass(
  db: Db,
  owner: { workflowId: string; runId: string; workflowPass: number | null },
): Promise<PassStart> {
  const { rows } = await db.query<{ id: string; epoch: string }>(
    `WITH fence AS (UPDATE holvi_sync_fence SET epoch = epoch + 1 RETURNING epoch)
     INSERT INTO holvi_sync_pass (epoch, workflow_id, run_id, workflow_pass, recorded_before)
     SELECT fence.epoch, $1, $2, $3, COALESCE((SELECT max(id) FROM holvi_received_payout), 0) FROM fence
     RETURNING id, epoch`,
    [owner.workflowId, owner.runId, owner.workflowPass],
  );
  return { passId: Number(rows[0]!.id), epoch: Number(rows[0]!.epoch) };
}

/**
 * The older passes' staged rows dropped, once a new pass began (their epoch can no longer send).
 * On the pool, not the fence session: after a large pass this takes a while, and the fence
 * session's statements are kept short. Pass rows are small: the last thousand are kept for people.
 */
export async function dropOlderPasses(db: Db, passId: number): Promise<void> {
  await db.query(
    `WITH payouts AS (DELETE FROM holvi_pass_payout WHERE pass_id < $1),
          rejected AS (DELETE FROM holvi_pass_rejected WHERE pass_id < $1),
          settle AS (DELETE FROM holvi_pass_settle WHERE pass_id < $1)
     DELETE FROM holvi_sync_pass WHERE id < $1::bigint - 1000`,
    [passId],
  );
}

export interface StagedRejection {
  rawSha256: string;
  expenzyId: string | null;
  expenzyUuid: string | null;
  rawJson: string;
  reason: string;
}

export async function stageRejected(
  db: Db,
  passId: number,
  firstSeq: number,
  rejected: StagedRejection[],
): Promise<void> {
  if (rejected.length === 0) return;
  await db.query(
    `INSERT INTO holvi_pass_rejected (pass_id, seq, raw_sha256, expenzy_id, expenzy_uuid, raw_json, reason)
     SELECT $1, $2::int + ord - 1, sha, id, uid, raw, reason
       FROM unnest($3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[])
            WITH ORDINALITY AS u(sha, id, uid, raw, reason, ord)
     ON CONFLICT DO NOTHING`,
    [passId, firstSeq, ...columns(rejected, 'rawSha256', 'expenzyId', 'expenzyUuid', 'rawJson', 'reason')],
  );
}

/**
 * After staging: the planner's statistics of the staging tables describe the pass just staged,
 * not one that is gone (migrations/1765200000000_pass-statistics.sql says why that matters).
 */
export async function refreshPassStatistics(db: Db): Promise<void> {
  await db.query('SELECT holvi_analyze_pass_stage()');
}

/**
 * After the list: recorded rows (up to the pass's recorded_before), unconfirmed, that the list
 * does not show at all. Only a fence holder moves a payout out of `notifying`, and nothing of
 * ours was in flight during the list: the partner applied our update and its answer was lost.
 * A row already found in `error` at the partner is final (settleStaged): never a candidate again.
 */
export async function stageSettleCandidates(db: Db, passId: number): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO holvi_pass_settle (pass_id, expenzy_uuid)
     SELECT $1, r.expenzy_uuid
       FROM holvi_received_payout r, holvi_sync_pass p
      WHERE p.id = $1 AND r.id <= p.recorded_before AND r.processing_confirmed_at IS NULL
        AND r.partner_error_seen_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM holvi_pass_payout s WHERE s.pass_id = $1 AND s.expenzy_uuid = r.expenzy_uuid)
        AND NOT EXISTS (SELECT 1 FROM holvi_pass_rejected s WHERE s.pass_id = $1 AND s.expenzy_uuid = r.expenzy_uuid)`,
    [passId],
  );
  return rowCount ?? 0;
}

/** A pass's candidates, all dropped: its `error` list was cut, so none can be told apart. */
export async function dropSettleCandidates(db: Db, passId: number): Promise<void> {
  await db.query('DELETE FROM holvi_pass_settle WHERE pass_id = $1', [passId]);
}

/** Candidates the partner lists as `error`: not ours to confirm. */
export async function flagSettleInError(db: Db, passId: number, listedInError: string[]): Promise<void> {
  if (listedInError.length === 0) return;
  await db.query(
    `UPDATE holvi_pass_settle SET in_error = true WHERE pass_id = $1 AND expenzy_uuid = ANY($2::uuid[])`,
    [passId, listedInError],
  );
}

/**
 * After the list, inside the fence: quarantined payouts whose `error` update has no recorded
 * outcome (its answer was lost: a 500 after the partner applied it, a timeout, a killed worker)
 * and that the list shows no more, neither malformed nor valid (nor Holvi recorded: a payout that
 * became valid was set to `processing`, not `error`). Only a fence holder moves a
 * payout out of `notifying`, only QuarantinePayouts sets `error`, and rows are kept only inside
 * the fence: the partner applied ours. Recorded as set, as its answer would have.
 * Reads only the open rows (a partial index) and finds each in the pass's stage by index: its
 * cost follows the updates in doubt, not every payout ever quarantined.
 */
export async function settleQuarantined(db: Db, passId: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH open AS (
       SELECT id, raw_sha256, expenzy_id,
              CASE WHEN expenzy_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                   THEN expenzy_id::uuid END AS uuid
         FROM holvi_rejected_payout
        WHERE partner_error_set_at IS NULL AND partner_error_failure IS NULL AND expenzy_id IS NOT NULL)
     UPDATE holvi_rejected_payout q SET partner_error_set_at = clock_timestamp()
       FROM open o
      WHERE q.id = o.id
        AND NOT EXISTS (SELECT 1 FROM holvi_pass_rejected s WHERE s.pass_id = $1 AND s.raw_sha256 = o.raw_sha256)
        AND NOT EXISTS (SELECT 1 FROM holvi_pass_rejected s WHERE s.pass_id = $1 AND s.expenzy_id = o.expenzy_id)
        AND NOT EXISTS (SELECT 1 FROM holvi_pass_payout s WHERE s.pass_id = $1 AND s.expenzy_uuid = o.uuid)
        AND NOT EXISTS (SELECT 1 FROM holvi_received_payout r WHERE r.expenzy_uuid = o.uuid)`,
    [passId],
  );
  return rowCount ?? 0;
}

export async function finishPass(
  db: Db,
  passId: number,
  counts: { listed: number; payouts: number; rejected: number; settle: number },
): Promise<void> {
  await db.query(
    `UPDATE holvi_sync_pass SET listed_at = clock_timestamp(), listed = $2, payouts = $3, rejected = $4, settle = $5
      WHERE id = $1`,
    [passId, counts.listed, counts.payouts, counts.rejected, counts.settle],
  );
}

// --- RecordPayout ---

const RECORD_STAGED = `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
     SELECT expenzy_uuid, create_time::timestamptz, amount::numeric, recipient_account_identifier
       FROM holvi_pass_payout WHERE pass_id = $1 AND seq >= $2 AND seq < $3
      ORDER BY seq DESC
     ON CONFLICT (expenzy_uuid) DO NOTHING`;

export interface RecordedRange {
  inserted: number;
  /** Staged payouts PostgreSQL refused to store, kept in holvi_rejected_payout with its reason. */
  refused: { expenzyUuid: string; reason: string }[];
}

/**
 * Stores staged payouts; a repeat (retry, another pass) is a no-op by the unique constraint.
 * The statement stores all of the range or nothing: when PostgreSQL refuses a row's values, the
 * range is stored again row by row (each its own statement, in the same order), and each row it
 * refuses is kept aside with its reason instead, so one payout cannot stop the others. Needs a
 * pool: on one session inside a transaction, the first refusal would abort the rest.
 */
export async function recordStaged(
  db: pg.Pool,
  passId: number,
  fromSeq: number,
  toSeq: number,
  onRow: () => void = () => {},
): Promise<RecordedRange> {
  try {
    const { rowCount } = await db.query(RECORD_STAGED, [passId, fromSeq, toSeq]);
    return { inserted: rowCount ?? 0, refused: [] };
  } catch (error) {
    if (!rowRefusal(error)) throw error;
  }
  const { rows } = await db.query<{ seq: number; expenzy_uuid: string }>(
    `SELECT seq, expenzy_uuid FROM holvi_pass_payout WHERE pass_id = $1 AND seq >= $2 AND seq < $3
      ORDER BY seq DESC`,
    [passId, fromSeq, toSeq],
  );
  const refused: RecordedRange['refused'] = [];
  const inserted = await rowByRow(
    db,
    RECORD_STAGED,
    passId,
    rows,
    async ({ seq, expenzy_uuid: expenzyUuid }, refusal) => {
      const reason = refusalReason(refusal, 'to record it');
      await keepRefusedPayout(db, passId, seq, reason);
      refused.push({ expenzyUuid, reason });
    },
    onRow,
  );
  return { inserted, refused };
}

/**
 * A staged payout PostgreSQL refused to record, quarantined: its values as Holvi staged them
 * (the partner's JSON is not kept for valid payouts) and the reason; refused_uuid makes every
 * later pass stage it as malformed (stagePayouts). A repeat is a no-op.
 */
async function keepRefusedPayout(db: Db, passId: number, seq: number, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason, refused_uuid)
     SELECT encode(sha256(convert_to(staged.raw::text, 'UTF8')), 'hex'), s.expenzy_uuid::text, staged.raw, $3,
            s.expenzy_uuid
       FROM holvi_pass_payout s
      CROSS JOIN LATERAL (SELECT jsonb_build_object(
              'id', s.expenzy_uuid, 'amount', s.amount, 'create_time', s.create_time,
              'recipient_account_identifier', s.recipient_account_identifier) AS raw) staged
      WHERE s.pass_id = $1 AND s.seq = $2
     ON CONFLICT DO NOTHING`,
    [passId, seq, reason],
  );
}

// --- SettleApplied ---

/** What the partner says of a recorded payout it lists in `error`: kept on the row, for people. */
export const IN_ERROR_AT_PARTNER = 'the partner lists it in state error: it was never set to processing';

/**
 * Confirms the candidates the list proved applied; the ones the partner lists in `error` reach
 * their final state instead (partner_error_seen_at, with the reason), so that later passes stop
 * looking for them. Returns the ids of each.
 */
export async function settleStaged(
  db: Db,
  passId: number,
): Promise<{ settled: string[]; inError: string[] }> {
  const settled = await db.query<{ expenzy_uuid: string }>(
    `UPDATE holvi_received_payout r SET processing_confirmed_at = clock_timestamp()
       FROM holvi_pass_settle s
      WHERE s.pass_id = $1 AND NOT s.in_error AND r.expenzy_uuid = s.expenzy_uuid
        AND r.processing_confirmed_at IS NULL
     RETURNING r.expenzy_uuid`,
    [passId],
  );
  const inError = await db.query<{ expenzy_uuid: string }>(
    `UPDATE holvi_received_payout r SET partner_error_seen_at = clock_timestamp(), processing_failure = $2
       FROM holvi_pass_settle s
      WHERE s.pass_id = $1 AND s.in_error AND r.expenzy_uuid = s.expenzy_uuid
        AND r.processing_confirmed_at IS NULL AND r.partner_error_seen_at IS NULL
     RETURNING r.expenzy_uuid`,
    [passId, IN_ERROR_AT_PARTNER],
  );
  return {
    settled: settled.rows.map((row) => row.expenzy_uuid),
    inError: inError.rows.map((row) => row.expenzy_uuid),
  };
}

// --- MarkProcessing ---

export interface MarkClaim {
  /** Recorded, unconfirmed, not sent within this list: to send now, oldest first. */
  toSend: string[];
  /** Listed, but not recorded (yet): nothing to do. */
  notRecorded: number;
  /** Listed as `notifying` although confirmed: the partner contradicts itself. */
  confirmedButListed: string[];
  /** Sent already within this list (an earlier attempt): left to the next pass's list. */
  sentBefore: number;
}

/**
 * Claims a range of the pass for sending, in one statement: each staged payout is sent at most
 * once per list, whatever happens to the attempt that claimed it. Run inside the fence.
 */
export async function claimForMarking(
  db: Db,
  passId: number,
  fromSeq: number,
  toSeq: number,
): Promise<MarkClaim> {
  const { rows } = await db.query<{
    expenzy_uuid: string;
    state: 'claimed' | 'not_recorded' | 'confirmed' | 'sent_before';
  }>(
    `WITH chunk AS (
       SELECT s.seq, s.expenzy_uuid, s.create_time, s.sent_at,
              r.id IS NOT NULL AS recorded, r.processing_confirmed_at IS NOT NULL AS confirmed
         FROM holvi_pass_payout s LEFT JOIN holvi_received_payout r USING (expenzy_uuid)
        WHERE s.pass_id = $1 AND s.seq >= $2 AND s.seq < $3
          -- an id the partner listed twice is sent for its first place in the list only
          AND NOT EXISTS (SELECT 1 FROM holvi_pass_payout d
                           WHERE d.pass_id = $1 AND d.expenzy_uuid = s.expenzy_uuid AND d.seq < s.seq)
     ), claimed AS (
       UPDATE holvi_pass_payout p SET sent_at = clock_timestamp()
         FROM chunk c
        WHERE p.pass_id = $1 AND p.seq >= $2 AND p.seq < $3 AND p.seq = c.seq AND c.recorded AND NOT c.confirmed AND c.sent_at IS NULL
       RETURNING p.seq
     )
     SELECT c.expenzy_uuid,
            CASE WHEN c.seq IN (SELECT seq FROM claimed) THEN 'claimed'
                 WHEN NOT c.recorded THEN 'not_recorded'
                 WHEN c.confirmed THEN 'confirmed'
                 ELSE 'sent_before' END AS state
       FROM chunk c
      ORDER BY c.create_time, c.expenzy_uuid`,
    [passId, fromSeq, toSeq],
  );
  const of = (state: (typeof rows)[number]['state']) =>
    rows.filter((row) => row.state === state).map((row) => row.expenzy_uuid);
  return {
    toSend: of('claimed'),
    notRecorded: of('not_recorded').length,
    confirmedButListed: of('confirmed'),
    sentBefore: of('sent_before').length,
  };
}

/**
 * The pass's payouts sent without a verdict: claimed, recorded, neither confirmed nor refused
 * (a 500, a timeout, a call never sent because the fence was lost). At most `limit`, oldest first.
 */
export async function sentWithoutVerdict(db: Db, passId: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ expenzy_uuid: string }>(
    `SELECT s.expenzy_uuid
       FROM holvi_pass_payout s JOIN holvi_received_payout r USING (expenzy_uuid)
      WHERE s.pass_id = $1 AND s.sent_at IS NOT NULL
        AND r.processing_confirmed_at IS NULL AND r.processing_failure IS NULL
      ORDER BY s.create_time, s.expenzy_uuid
      LIMIT $2`,
    [passId, limit],
  );
  return rows.map((row) => row.expenzy_uuid);
}

/** The partner's answers for a claimed range, in two round trips whatever its size. */
export async function recordMarkOutcomes(
  db: Db,
  applied: string[],
  refused: { expenzyId: string; reason: string }[],
): Promise<void> {
  if (applied.length > 0) {
    await db.query(
      `UPDATE holvi_received_payout SET processing_confirmed_at = clock_timestamp(), processing_failure = NULL
        WHERE expenzy_uuid = ANY($1::uuid[]) AND processing_confirmed_at IS NULL`,
      [applied],
    );
  }
  if (refused.length > 0) {
    await db.query(
      `UPDATE holvi_received_payout r SET processing_failure = u.reason
         FROM unnest($1::uuid[], $2::text[]) AS u(id, reason)
        WHERE r.expenzy_uuid = u.id AND r.processing_confirmed_at IS NULL`,
      [refused.map((r) => r.expenzyId), refused.map((r) => pgText(r.reason))],
    );
  }
}

// --- QuarantinePayouts ---

export interface QuarantineClaim {
  /** Newly kept in holvi_rejected_payout. */
  quarantined: number;
  /** Kept with their raw JSON as a string: PostgreSQL refused it as jsonb (the reason says why). */
  keptAsText: number;
  /**
   * Kept, not set at the partner yet (no outcome, or a passing refusal now due for a retry), not
   * sent within this list: to set to `error` now.
   */
  toSend: { rawSha256: string; expenzyId: string | null; reason: string }[];
  /** Listed malformed although Holvi recorded the payout: a person must look (never set to error). */
  recordedButMalformed: string[];
}

/**
 * Keeps a range of the pass's malformed payouts and claims those to set to `error`. Inside the
 * fence. Needs a pool, as recordStaged does.
 */
export async function claimForQuarantine(
  db: pg.Pool,
  passId: number,
  fromSeq: number,
  toSeq: number,
): Promise<QuarantineClaim> {
  const kept = await keepRejected(db, passId, fromSeq, toSeq);
  const recorded = await db.query<{ expenzy_uuid: string }>(
    `SELECT s.expenzy_uuid FROM holvi_pass_rejected s JOIN holvi_received_payout r USING (expenzy_uuid)
      WHERE s.pass_id = $1 AND s.seq >= $2 AND s.seq < $3 LIMIT 20`,
    [passId, fromSeq, toSeq],
  );
  const claimed = await db.query<{ raw_sha256: string; expenzy_id: string | null; reason: string }>(
    `UPDATE holvi_pass_rejected s SET sent_at = clock_timestamp()
       FROM holvi_rejected_payout q
      WHERE s.pass_id = $1 AND s.seq >= $2 AND s.seq < $3 AND s.sent_at IS NULL
        AND q.raw_sha256 = s.raw_sha256
        AND q.partner_error_set_at IS NULL
        AND (q.partner_error_failure IS NULL OR q.partner_error_retry_at <= clock_timestamp())
        AND NOT EXISTS (SELECT 1 FROM holvi_received_payout r WHERE r.expenzy_uuid = s.expenzy_uuid)
     RETURNING s.raw_sha256, s.expenzy_id, s.reason`,
    [passId, fromSeq, toSeq],
  );
  return {
    quarantined: kept.kept,
    keptAsText: kept.keptAsText,
    toSend: claimed.rows.map((row) => ({
      rawSha256: row.raw_sha256,
      expenzyId: row.expenzy_id,
      reason: row.reason,
    })),
    recordedButMalformed: recorded.rows.map((row) => row.expenzy_uuid),
  };
}

// Rows kept already are left out before their raw JSON is cast: one kept as a string is not
// refused again, pass after pass, while the partner still lists it.
const KEEP_REJECTED = `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason)
     SELECT raw_sha256, expenzy_id, raw_json::jsonb, reason
       FROM holvi_pass_rejected s
      WHERE pass_id = $1 AND seq >= $2 AND seq < $3
        AND NOT EXISTS (SELECT 1 FROM holvi_received_payout r WHERE r.expenzy_uuid = s.expenzy_uuid)
        AND NOT EXISTS (SELECT 1 FROM holvi_rejected_payout q WHERE q.raw_sha256 = s.raw_sha256)
     ON CONFLICT (raw_sha256) DO NOTHING`;

/**
 * Stores a range of malformed payouts in holvi_rejected_payout, all in one statement; when
 * PostgreSQL refuses a row (its raw JSON as jsonb), row by row, and a refused row is kept with
 * its raw JSON as one jsonb string and PostgreSQL's reason added to its own: it is still
 * quarantined and set to `error`, and the others go on.
 */
async function keepRejected(
  db: pg.Pool,
  passId: number,
  fromSeq: number,
  toSeq: number,
): Promise<{ kept: number; keptAsText: number }> {
  try {
    const { rowCount } = await db.query(KEEP_REJECTED, [passId, fromSeq, toSeq]);
    return { kept: rowCount ?? 0, keptAsText: 0 };
  } catch (error) {
    if (!rowRefusal(error)) throw error;
  }
  const { rows } = await db.query<{ seq: number }>(
    'SELECT seq FROM holvi_pass_rejected WHERE pass_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
    [passId, fromSeq, toSeq],
  );
  let keptAsText = 0;
  const kept = await rowByRow(db, KEEP_REJECTED, passId, rows, async ({ seq }, refusal) => {
    const { rowCount } = await db.query(
      `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason)
         SELECT raw_sha256, expenzy_id, to_jsonb(raw_json), reason || '; ' || $3
           FROM holvi_pass_rejected s
          WHERE pass_id = $1 AND seq = $2
            AND NOT EXISTS (SELECT 1 FROM holvi_received_payout r WHERE r.expenzy_uuid = s.expenzy_uuid)
         ON CONFLICT (raw_sha256) DO NOTHING`,
      [passId, seq, refusalReason(refusal, 'its raw JSON as jsonb, kept as a string')],
    );
    keptAsText += rowCount ?? 0;
  });
  return { kept: kept + keptAsText, keptAsText };
}

/** The partner's answer to `error`: set (failure null), or refused with the reason. */
export interface QuarantineOutcome {
  rawSha256: string;
  failure: string | null;
  /** A refusal that cannot change (no id to address the payout by): never tried again. */
  final?: boolean;
}

/** A passing refusal is tried again after 30 s, doubling per refusal up to 6 h. */
const RETRY_FIRST_S = 30;
const RETRY_MAX_S = 6 * 60 * 60;

/** Records the answers; a passing refusal gets its next try time, backing off. */
export async function recordQuarantineOutcomes(db: Db, outcomes: QuarantineOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await db.query(
    `UPDATE holvi_rejected_payout q
        SET partner_error_set_at = CASE WHEN u.failure IS NULL THEN clock_timestamp() END,
            partner_error_failure = u.failure,
            partner_error_attempts = q.partner_error_attempts + 1,
            partner_error_retry_at = CASE WHEN u.failure IS NOT NULL AND NOT u.final
              THEN clock_timestamp() + least($4::int, $3::int * 2 ^ least(q.partner_error_attempts, 20)) * interval '1 s' END
       FROM unnest($1::text[], $2::text[], $5::boolean[]) AS u(sha, failure, final)
      WHERE q.raw_sha256 = u.sha`,
    [
      outcomes.map((o) => o.rawSha256),
      outcomes.map((o) => (o.failure === null ? null : pgText(o.failure))),
      RETRY_FIRST_S,
      RETRY_MAX_S,
      outcomes.map((o) => o.final === true),
    ],
  );
}

/** Quarantined payouts the partner refused to set to `error`: for good, and still being retried. */
export async function countQuarantineRefusals(db: Db): Promise<{ final: number; retrying: number }> {
  const { rows } = await db.query<{ final: string; retrying: string }>(
    `SELECT count(*) FILTER (WHERE partner_error_retry_at IS NULL) AS final,
            count(*) FILTER (WHERE partner_error_retry_at IS NOT NULL) AS retrying
       FROM holvi_rejected_payout WHERE partner_error_set_at IS NULL AND partner_error_failure IS NOT NULL`,
  );
  return { final: Number(rows[0]?.final ?? 0), retrying: Number(rows[0]?.retrying ?? 0) };
}

// --- The API ---

export async function countReceived(db: Db): Promise<string> {
  const { rows } = await db.query<{ count: string }>('SELECT count(*) AS count FROM holvi_received_payout');
  return rows[0]?.count ?? '0';
}

/** One array per field, in the order named: the parameters of an `unnest($n::type[], …)` insert. */
function columns<T, K extends keyof T>(rows: T[], ...keys: K[]): T[K][][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

/**
 * A range statement ($1 pass, $2 and $3 the seq range) run again one row at a time, in the
 * order of `rows`: a row PostgreSQL refuses goes to `refused`, the others are stored. Returns
 * the rows the statements stored.
 */
async function rowByRow<R extends { seq: number }>(
  db: Db,
  statement: string,
  passId: number,
  rows: R[],
  refused: (row: R, refusal: RowRefusal) => Promise<void>,
  onRow: () => void = () => {},
): Promise<number> {
  let stored = 0;
  for (const row of rows) {
    try {
      const { rowCount } = await db.query(statement, [passId, row.seq, row.seq + 1]);
      stored += rowCount ?? 0;
    } catch (error) {
      const refusal = rowRefusal(error);
      if (!refusal) throw error;
      await refused(row, refusal);
    }
    onRow();
  }
  return stored;
}
