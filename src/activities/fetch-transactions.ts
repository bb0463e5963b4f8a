import { createHash } from 'node:crypto';
import { heartbeat, log } from '@temporalio/activity';
import { isUuid, listedIds, parsePartnerPayout } from '../partner/payout-parser.js';
import type { FetchResult, Payout, RejectedPayout } from '../shared.js';
import { chooseBatch } from './choose-batch.js';
import type { ActivityDependencies } from './dependencies.js';
import { settleConfirmedByPartner } from './settle-confirmed.js';

/**
 * FetchTransactions: one list call for `notifying` payouts, validated, oldest first, cut to
 * one batch so no payload grows with the backlog.
 * Absorbs: the partner's 500s and timeouts (thrown, retried by the activity retry policy).
 * Idempotent: it only reads, and settles rows whose update the partner already applied.
 */
export function createFetchTransactions({ pool, expenzy, batchSize, metrics }: ActivityDependencies) {
  return async function FetchTransactions(): Promise<FetchResult> {
    heartbeat();
    const listed = await expenzy.listTransactions('notifying');
    heartbeat();
    const { payouts, rejected } = partition(listed);
    payouts.sort(
      (a, b) => a.createTime.localeCompare(b.createTime) || a.expenzyId.localeCompare(b.expenzyId),
    );

    const { recorded, unconfirmed } = await holviSide(pool, payouts);
    const settled = await settleConfirmedByPartner(pool, expenzy, unconfirmed, listedIds(listed));
    const { batch, remaining } = chooseBatch(payouts, recorded, batchSize);
    const newRejected = withinBudget(await withoutSettledRejections(pool, await notRecorded(pool, rejected)));

    metrics?.observeBacklog(payouts.length, payouts[0]?.createTime);
    log.info('fetched notifying payouts', {
      listed: listed.length,
      valid: payouts.length,
      rejected: newRejected.length,
      batch: batch.length,
      remaining,
      settledWithoutUpdate: settled,
    });
    return { payouts: batch, rejected: newRejected.slice(0, batchSize), remaining, settled };
  };
}

function partition(listed: unknown[]) {
  const payouts = new Map<string, Payout>();
  const rejected: RejectedPayout[] = [];
  for (const raw of listed) {
    const parsed = parsePartnerPayout(raw);
    if (parsed.kind === 'payout' && !payouts.has(parsed.payout.expenzyId)) {
      payouts.set(parsed.payout.expenzyId, parsed.payout);
    }
    if (parsed.kind === 'rejected') rejected.push(bounded(parsed.rejected));
  }
  return { payouts: [...payouts.values()], rejected };
}

/**
 * Holvi's side in one query: which listed payouts are recorded (and confirmed or not), and every
 * recorded row still unconfirmed, listed or not (settle-confirmed.ts looks at those).
 */
async function holviSide(pool: ActivityDependencies['pool'], payouts: Payout[]) {
  const listed = payouts.map((payout) => payout.expenzyId);
  const { rows } = await pool.query<{ expenzy_uuid: string; confirmed: boolean }>(
    `SELECT expenzy_uuid, processing_confirmed_at IS NOT NULL AS confirmed
       FROM holvi_received_payout
      WHERE processing_confirmed_at IS NULL OR expenzy_uuid = ANY($1::uuid[])`,
    [listed],
  );
  const unconfirmed = rows.filter((row) => !row.confirmed).map((row) => row.expenzy_uuid);
  const listedSet = new Set(listed);
  const ofListed = rows.filter((row) => listedSet.has(row.expenzy_uuid));
  const confirmedButListed = ofListed.filter((row) => row.confirmed).map((row) => row.expenzy_uuid);
  if (confirmedButListed.length > 0) {
    log.error('partner lists as notifying payouts it confirmed as processing', {
      expenzyIds: confirmedButListed.slice(0, 20),
    });
  }
  return {
    recorded: new Map(ofListed.map((row) => [row.expenzy_uuid, { confirmed: row.confirmed }])),
    unconfirmed,
  };
}

const MAX_RAW_CHARS = 4_096;
const MAX_ID_CHARS = 100;
/** Rejected payouts of one pass, in characters of JSON: far below Temporal's 2 MB payload limit. */
const REJECTED_BUDGET_CHARS = 256 * 1024;

/** A rejected payout travels through Temporal's history: keep an oversized one as a prefix. */
function bounded(rejected: RejectedPayout): RejectedPayout {
  const text = JSON.stringify(rejected.raw) ?? String(rejected.raw);
  const raw =
    text.length <= MAX_RAW_CHARS
      ? rejected.raw
      : { truncated: text.slice(0, MAX_RAW_CHARS), length: text.length };
  const id = rejected.expenzyId;
  return { ...rejected, expenzyId: id !== null && id.length <= MAX_ID_CHARS ? id : null, raw };
}

/** As many rejected payouts as fit the budget; the rest wait for a later pass. */
function withinBudget(rejected: RejectedPayout[]): RejectedPayout[] {
  let used = 0;
  return rejected.filter((payout) => (used += JSON.stringify(payout).length) <= REJECTED_BUDGET_CHARS);
}

/**
 * A payout Holvi already recorded that the partner now lists malformed is not ours to set to
 * `error`: it needs a person. Logged, and left out of the quarantine.
 */
async function notRecorded(pool: ActivityDependencies['pool'], rejected: RejectedPayout[]) {
  const ids = rejected.flatMap((payout) =>
    payout.expenzyId !== null && isUuid(payout.expenzyId) ? [payout.expenzyId.toLowerCase()] : [],
  );
  if (ids.length === 0) return rejected;
  const { rows } = await pool.query<{ expenzy_uuid: string }>(
    'SELECT expenzy_uuid FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[])',
    [ids],
  );
  if (rows.length === 0) return rejected;
  const recorded = new Set(rows.map((row) => row.expenzy_uuid));
  log.error('payouts Holvi recorded are now listed malformed by the partner', { expenzyIds: [...recorded] });
  return rejected.filter((payout) => !recorded.has(payout.expenzyId?.toLowerCase() ?? ''));
}

export function rawFingerprint(raw: unknown): string {
  return createHash('sha256').update(JSON.stringify(raw)).digest('hex');
}

/** Malformed payouts stay listed until set to `error`; report each only until it is settled. */
async function withoutSettledRejections(pool: ActivityDependencies['pool'], rejected: RejectedPayout[]) {
  if (rejected.length === 0) return rejected;
  const { rows } = await pool.query<{ raw_sha256: string }>(
    `SELECT raw_sha256 FROM holvi_rejected_payout
      WHERE raw_sha256 = ANY($1::text[]) AND (partner_error_set_at IS NOT NULL OR partner_error_failure IS NOT NULL)`,
    [rejected.map((r) => rawFingerprint(r.raw))],
  );
  const settled = new Set(rows.map((row) => row.raw_sha256));
  return rejected.filter((r) => !settled.has(rawFingerprint(r.raw)));
}
