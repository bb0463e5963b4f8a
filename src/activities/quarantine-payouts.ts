import { log } from '@temporalio/activity';
import { claimForQuarantine, recordQuarantineOutcomes } from '../db/payout-store.js';
import { sendInPass } from '../fence/hold-in-activity.js';
import { sendFenced } from '../fence/send-fenced.js';
import type { PassRange, QuarantineResult } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';

/**
 * QuarantinePayouts: keeps each malformed payout of a range of the pass with its raw JSON and
 * reason in holvi_rejected_payout (never in holvi_received_payout) and sets it to `error` at the
 * partner, which takes it out of the `notifying` list. Inside the fence, like MarkProcessing:
 * nothing is sent once another list was taken, and each is sent at most once per list.
 * Absorbs: the partner's 500s (left to a later pass), any retry (rows keyed by a fingerprint of
 * the raw JSON; a payout whose outcome at the partner is recorded is never sent again), raw JSON
 * PostgreSQL refuses as jsonb (that row kept with it as a string, the others as they are).
 */
export function createQuarantinePayouts({
  pool,
  expenzy,
  fence,
  maxParallelCalls,
  metrics,
}: ActivityDependencies) {
  return async function QuarantinePayouts(range: PassRange): Promise<QuarantineResult> {
    const result: QuarantineResult = {
      quarantined: 0,
      setToError: 0,
      unsettled: 0,
      retryLater: 0,
      fenceMoved: false,
    };
    return sendInPass(fence, range, { ...result, fenceMoved: true }, async (tenure) => {
      const claim = await claimForQuarantine(pool, range.passId, range.fromSeq, range.toSeq);
      result.quarantined = claim.quarantined;
      metrics?.payoutsRejected.inc(claim.quarantined);
      if (claim.keptAsText > 0) {
        log.warn('PostgreSQL refused raw JSON of malformed payouts as jsonb: kept as strings', {
          ...range,
          keptAsText: claim.keptAsText,
        });
      }
      if (claim.recordedButMalformed.length > 0) {
        // Its money is recorded: not Holvi's to set to `error`. A person must look.
        log.error('payouts Holvi recorded are now listed malformed by the partner', {
          expenzyIds: claim.recordedButMalformed,
        });
      }
      const addressable = claim.toSend.filter((payout) => payout.expenzyId !== null);
      const outcomes = await sendFenced(tenure, addressable, maxParallelCalls, (payout, signal) =>
        expenzy.updateState(payout.expenzyId!, 'error', signal),
      );
      const recorded: { rawSha256: string; failure: string | null }[] = claim.toSend
        .filter((payout) => payout.expenzyId === null)
        .map((payout) => ({ rawSha256: payout.rawSha256, failure: 'no id to address the payout by' }));
      outcomes.forEach((outcome, index) => {
        const { rawSha256 } = addressable[index]!;
        if (outcome.kind === 'transient') result.retryLater++;
        else if (outcome.kind === 'refused') recorded.push({ rawSha256, failure: outcome.reason });
        else if (!outcome.value.applied)
          recorded.push({ rawSha256, failure: 'partner answered [] (unknown id)' });
        else recorded.push({ rawSha256, failure: null });
      });
      await recordQuarantineOutcomes(pool, recorded);
      result.setToError = recorded.filter((outcome) => outcome.failure === null).length;
      result.unsettled = recorded.length - result.setToError;
      if (claim.quarantined > 0) log.warn('quarantined malformed payouts', { ...range, ...result });
      return result;
    });
  };
}
