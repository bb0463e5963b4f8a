import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import { parsePartnerPayout } from '../partner/payout-parser.js';
import type { FetchResult, Payout, RejectedPayout } from '../shared.js';
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
    const { payouts, rejected } = partition(listed);
    payouts.sort(
      (a, b) => a.createTime.localeCompare(b.createTime) || a.expenzyId.localeCompare(b.expenzyId),
    );

    const settled = await settleConfirmedByPartner(pool, expenzy, new Set(payouts.map((p) => p.expenzyId)));
    const newRejected = await withoutSettledRejections(pool, rejected);
    const batch = payouts.slice(0, batchSize);

    metrics?.observeBacklog(payouts.length, payouts[0]?.createTime);
    log.info('fetched notifying payouts', {
      listed: listed.length,
      valid: payouts.length,
      rejected: newRejected.length,
      batch: batch.length,
      settledWithoutUpdate: settled,
    });
    return {
      payouts: batch,
      rejected: newRejected.slice(0, batchSize),
      remaining: payouts.length - batch.length,
    };
  };
}

function partition(listed: unknown[]): { payouts: Payout[]; rejected: RejectedPayout[] } {
  const payouts = new Map<string, Payout>();
  const rejected: RejectedPayout[] = [];
  for (const raw of listed) {
    const parsed = parsePartnerPayout(raw);
    if (parsed.kind === 'payout' && !payouts.has(parsed.payout.expenzyId))
      payouts.set(parsed.payout.expenzyId, parsed.payout);
    if (parsed.kind === 'rejected') rejected.push(parsed.rejected);
  }
  return { payouts: [...payouts.values()], rejected };
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
