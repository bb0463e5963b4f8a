import { ApplicationFailure, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import { PartnerUnavailableError } from '../partner/errors.js';
import type { RejectedPayout } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';
import { rawFingerprint } from './fetch-transactions.js';

export interface QuarantineResult {
  quarantined: number;
  setToError: number;
  /** Could not be set to `error` for good (no usable id, partner refused); kept with the reason. */
  unsettled: number;
  /** The partner failed transiently: still listed, so a later pass tries again. */
  retryLater: number;
}

/**
 * QuarantinePayouts: keeps each malformed payout with its raw JSON and reason in
 * holvi_rejected_payout (never in holvi_received_payout) and sets it to `error` at the partner,
 * which takes it out of the `notifying` list.
 * Absorbs: the partner's 500s like MarkProcessing: what failed transiently is left to a later
 * pass, and only when nothing got through does the activity fail for the retry policy.
 * Idempotent: rows are keyed by a fingerprint of the raw JSON, and a payout whose outcome at
 * the partner is recorded is not sent again, on a retry or in a later pass.
 */
export function createQuarantinePayouts({ pool, expenzy, metrics }: ActivityDependencies) {
  return async function QuarantinePayouts(rejected: RejectedPayout[]): Promise<QuarantineResult> {
    const result: QuarantineResult = { quarantined: 0, setToError: 0, unsettled: 0, retryLater: 0 };
    let attempted = 0;
    for (const payout of rejected) {
      const sha = rawFingerprint(payout.raw);
      const { inserted, settled } = await keep(pool, sha, payout);
      if (inserted) {
        result.quarantined++;
        metrics?.payoutsRejected.inc();
        log.warn('quarantined malformed payout', { expenzyId: payout.expenzyId, reason: payout.reason });
      }
      if (settled) continue;
      attempted++;
      const outcome = await setError(expenzy, payout.expenzyId, cancellationSignal());
      heartbeat();
      if (outcome === 'transient') result.retryLater++;
      else await recordPartnerOutcome(pool, sha, outcome);
      if (outcome === 'applied') result.setToError++;
      if (typeof outcome === 'object') result.unsettled++;
    }
    if (attempted > 0 && result.retryLater === attempted) {
      throw ApplicationFailure.retryable(
        `all ${attempted} error updates failed transiently`,
        'PartnerUnavailable',
      );
    }
    return result;
  };
}

/** Stores the payout once; says whether its outcome at the partner is already recorded. */
async function keep(pool: ActivityDependencies['pool'], sha: string, payout: RejectedPayout) {
  const inserted = await pool.query(
    `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason) VALUES ($1, $2, $3, $4)
     ON CONFLICT (raw_sha256) DO NOTHING`,
    [sha, withoutNul(payout.expenzyId), jsonbSafe(payout.raw), withoutNul(payout.reason)],
  );
  const { rows } = await pool.query<{ settled: boolean }>(
    `SELECT partner_error_set_at IS NOT NULL OR partner_error_failure IS NOT NULL AS settled
       FROM holvi_rejected_payout WHERE raw_sha256 = $1`,
    [sha],
  );
  return { inserted: (inserted.rowCount ?? 0) > 0, settled: rows[0]?.settled === true };
}

type Outcome = 'applied' | 'transient' | { failure: string };

async function setError(
  expenzy: ActivityDependencies['expenzy'],
  id: string | null,
  cancelled: AbortSignal,
): Promise<Outcome> {
  if (id === null) return { failure: 'no id to address the payout by' };
  try {
    const answer = await expenzy.updateState(id, 'error', cancelled);
    return answer.applied ? 'applied' : { failure: 'partner answered [] (unknown id)' };
  } catch (error) {
    if (error instanceof PartnerUnavailableError) return 'transient';
    return { failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

async function recordPartnerOutcome(
  pool: ActivityDependencies['pool'],
  sha: string,
  outcome: Exclude<Outcome, 'transient'>,
) {
  if (outcome === 'applied') {
    await pool.query(
      'UPDATE holvi_rejected_payout SET partner_error_set_at = clock_timestamp() WHERE raw_sha256 = $1',
      [sha],
    );
  } else {
    await pool.query('UPDATE holvi_rejected_payout SET partner_error_failure = $2 WHERE raw_sha256 = $1', [
      sha,
      withoutNul(outcome.failure),
    ]);
  }
}

/** PostgreSQL text and jsonb cannot hold U+0000: keep it visible as the six characters \u0000. */
const withoutNul = (text: string | null) => text?.replaceAll('\u0000', '\\u0000') ?? null;
const jsonbSafe = (raw: unknown) => (JSON.stringify(raw) ?? 'null').replaceAll('\\u0000', '\\\\u0000');
