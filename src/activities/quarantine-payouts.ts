import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import { PartnerUnavailableError } from '../partner/errors.js';
import type { RejectedPayout } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';
import { rawFingerprint } from './fetch-transactions.js';

export interface QuarantineResult {
  quarantined: number;
  setToError: number;
  /** Could not be set to `error` for good (no usable id, partner refused); kept with the reason. */
  unsettled: number;
}

/**
 * QuarantinePayouts: keeps each malformed payout with its raw JSON and reason in
 * holvi_rejected_payout (never in holvi_received_payout) and sets it to `error` at the partner,
 * which takes it out of the `notifying` list.
 * Absorbs: the partner's 500s (retried like MarkProcessing). Idempotent: rows are keyed by a
 * fingerprint of the raw JSON, and a payout whose `error` state is recorded is not sent again.
 */
export function createQuarantinePayouts({ pool, expenzy, metrics }: ActivityDependencies) {
  return async function QuarantinePayouts(rejected: RejectedPayout[]): Promise<QuarantineResult> {
    const result: QuarantineResult = { quarantined: 0, setToError: 0, unsettled: 0 };
    let transient = 0;
    for (const payout of rejected) {
      const sha = rawFingerprint(payout.raw);
      const inserted = await pool.query(
        `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason) VALUES ($1, $2, $3, $4)
         ON CONFLICT (raw_sha256) DO NOTHING`,
        [sha, payout.expenzyId, JSON.stringify(payout.raw), payout.reason],
      );
      if (inserted.rowCount) {
        result.quarantined++;
        metrics?.payoutsRejected.inc();
        log.warn('quarantined malformed payout', { expenzyId: payout.expenzyId, reason: payout.reason });
      }
      const outcome = await setError(expenzy, payout.expenzyId);
      heartbeat();
      if (outcome === 'transient') transient++;
      else await recordPartnerOutcome(pool, sha, outcome);
      if (outcome === 'applied') result.setToError++;
      if (outcome !== 'applied' && outcome !== 'transient') result.unsettled++;
    }
    if (transient > 0)
      throw ApplicationFailure.retryable(
        `${transient} error updates failed transiently`,
        'PartnerUnavailable',
      );
    return result;
  };
}

type Outcome = 'applied' | 'transient' | { failure: string };

async function setError(expenzy: ActivityDependencies['expenzy'], id: string | null): Promise<Outcome> {
  if (id === null) return { failure: 'no id to address the payout by' };
  try {
    const answer = await expenzy.updateState(id, 'error');
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
      outcome.failure,
    ]);
  }
}
