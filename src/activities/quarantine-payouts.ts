import { log } from '@temporalio/activity';
import { claimForQuarantine, recordQuarantineOutcomes, type QuarantineOutcome } from '../db/payout-store.js';
import { sendInPass } from '../fence/hold-in-activity.js';
import { sendFenced } from '../fence/send-fenced.js';
import { isUuid } from '../partner/payout-parser.js';
import type { PassRange, QuarantineResult } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';

/**
 * QuarantinePayouts: keeps each malformed payout of a range of the pass with its raw JSON and
 * reason in holvi_rejected_payout (never in holvi_received_payout) and sets it to `error` at the
 * partner, which takes it out of the `notifying` list. Inside the fence, like MarkProcessing:
 * nothing is sent once another list was taken, and each is sent at most once per list.
 * Absorbs: the partner's 500s (left to a later pass), its refusals (a 404, `[]`, a 401 during a
 * key rotation: tried again by a later pass that lists the payout, backing off, like
 * MarkProcessing's; only a payout without a uuid to address it by is refused for good), any
 * retry (rows keyed by a fingerprint of the raw JSON; a payout set to `error` is never sent
 * again), raw JSON PostgreSQL refuses as jsonb (that row kept with it as a string, the others as
 * they are).
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
      const recorded: QuarantineOutcome[] = claim.toSend
        .filter((payout) => payout.expenzyId === null)
        .map((payout) => ({
          rawSha256: payout.rawSha256,
          failure: 'no id to address the payout by',
          final: true,
        }));
      outcomes.forEach((outcome, index) => {
        const { rawSha256, expenzyId } = addressable[index]!;
        // The update's route takes a uuid: a payout listed under another id cannot be addressed.
        const final = !isUuid(expenzyId!);
        if (outcome.kind === 'transient') result.retryLater++;
        else if (outcome.kind === 'refused') recorded.push({ rawSha256, failure: outcome.reason, final });
        else if (!outcome.value.applied)
          recorded.push({ rawSha256, failure: 'partner answered [] (unknown id)', final });
        else recorded.push({ rawSha256, failure: null });
      });
      await recordQuarantineOutcomes(pool, recorded);
      result.setToError = recorded.filter((outcome) => outcome.failure === null).length;
      result.unsettled = recorded.length - result.setToError;
      const refusals = recorded.filter((outcome) => outcome.failure !== null);
      const forGood = refusals.filter((outcome) => outcome.final === true).length;
      metrics?.quarantineRefusedForGood.inc(forGood);
      metrics?.quarantineRefusedForNow.inc(refusals.length - forGood);
      if (claim.quarantined > 0) log.warn('quarantined malformed payouts', { ...range, ...result });
      return result;
    });
  };
}
