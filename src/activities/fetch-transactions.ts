import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import { parsePartnerPayout } from '../partner/payout-parser.js';
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
    const listed = await expenzy.listTransactions('notifying');
    const { payouts, rejected, listedIds } = partition(listed);
    payouts.sort(
      (a, b) => a.createTime.localeCompare(b.createTime) || a.expenzyId.localeCompare(b.expenzyId),
    );

    const settled = await settleConfirmedByPartner(pool, expenzy, listedIds);
    const recorded = await recordedAmong(pool, payouts);
    const { batch, remaining } = chooseBatch(payouts, recorded, batchSize);
    const newRejected = await withoutSettledRejections(pool, rejected);

    metrics?.observeBacklog(payouts.length, payouts[0]?.createTime);
    log.info('fetched notifying payouts', {
      listed: listed.length,
      valid: payouts.length,
      rejected: newRejected.length,
      batch: batch.length,
      remaining,
      settledWithoutUpdate: settled,
    });
    return { payouts: batch, rejected: newRejected.slice(0, batchSize), remaining };
  };
}

function partition(listed: unknown[]) {
  const payouts = new Map<string, Payout>();
  const rejected: RejectedPayout[] = [];
  const listedIds = new Set<string>();
  for (const raw of listed) {
    const id = (raw as { id?: unknown } | null)?.id;
    if (typeof id === 'string') listedIds.add(id.toLowerCase());
    const parsed = parsePartnerPayout(raw);
    if (parsed.kind === 'payout' && !payouts.has(parsed.payout.expenzyId)) {
      payouts.set(parsed.payout.expenzyId, parsed.payout);
    }
    if (parsed.kind === 'rejected') rejected.push({ ...parsed.rejected, raw: bounded(parsed.rejected.raw) });
  }
  return { payouts: [...payouts.values()], rejected, listedIds };
}

/** Which of these payouts Holvi has recorded, and whether their update is confirmed. */
async function recordedAmong(pool: ActivityDependencies['pool'], payouts: Payout[]) {
  const { rows } = await pool.query<{ expenzy_uuid: string; confirmed: boolean }>(
    `SELECT expenzy_uuid, processing_confirmed_at IS NOT NULL AS confirmed
       FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[])`,
    [payouts.map((payout) => payout.expenzyId)],
  );
  const confirmedButListed = rows.filter((row) => row.confirmed).map((row) => row.expenzy_uuid);
  if (confirmedButListed.length > 0) {
    log.error('partner lists as notifying payouts it confirmed as processing', {
      expenzyIds: confirmedButListed.slice(0, 20),
    });
  }
  return new Map(rows.map((row) => [row.expenzy_uuid, { confirmed: row.confirmed }]));
}

const MAX_RAW_CHARS = 4_096;

/** A rejected payout travels through Temporal's history: keep an oversized one as a prefix. */
function bounded(raw: unknown): unknown {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length <= MAX_RAW_CHARS
    ? raw
    : { truncated: text.slice(0, MAX_RAW_CHARS), length: text.length };
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
