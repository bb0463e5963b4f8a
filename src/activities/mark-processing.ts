import { log } from '@temporalio/activity';
import { claimForMarking, recordMarkOutcomes } from '../db/payout-store.js';
import type { MarkResult, PassRange } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';
import { sendInPass } from './fence-holder.js';
import { sendFenced } from './send-fenced.js';

const SAMPLE = 10;

/**
 * MarkProcessing: sets `processing` at Expenzy for one range of a pass's staged payouts, inside
 * the fence, and records the partner's confirmations on our rows.
 * Decided only from the pass's list, taken inside the fence: if another list was taken since
 * (the epoch moved: another run, workflow or deployment), nothing is sent. Each staged payout is
 * claimed before its call, so within one list it is sent at most once, whatever happens to this
 * attempt; one that failed (500, timeout) waits for the next pass, whose fresh list shows
 * whether the update applied (SettleApplied) or not (sent again).
 * Absorbs: the partner's 500s and timeouts (left to the next pass), a retry (claimed payouts are
 * not sent again), a lost fence (calls aborted, the rest not sent).
 */
export function createMarkProcessing({
  pool,
  expenzy,
  fence,
  maxParallelCalls,
  metrics,
}: ActivityDependencies) {
  return async function MarkProcessing(range: PassRange): Promise<MarkResult> {
    const result: MarkResult = {
      marked: 0,
      retryLater: 0,
      refused: 0,
      refusedSample: [],
      skipped: 0,
      fenceMoved: false,
    };
    return sendInPass(fence, range, { ...result, fenceMoved: true }, async (tenure) => {
      const claim = await claimForMarking(pool, range.passId, range.fromSeq, range.toSeq);
      if (claim.confirmedButListed.length > 0) {
        log.error('partner lists as notifying payouts it confirmed as processing', {
          expenzyIds: claim.confirmedButListed.slice(0, 20),
        });
      }
      const outcomes = await sendFenced(tenure, claim.toSend, maxParallelCalls, (id, signal) =>
        expenzy.updateState(id, 'processing', signal),
      );

      const applied: string[] = [];
      const refused: { expenzyId: string; reason: string }[] = [];
      outcomes.forEach((outcome, index) => {
        const expenzyId = claim.toSend[index]!;
        // Unconfirmed and claimed (500, timeout, an answer too large to read): whether it applied
        // is left to the next list, which settles it or sends it again.
        if (outcome.kind === 'transient') result.retryLater++;
        else if (outcome.kind === 'refused') refused.push({ expenzyId, reason: outcome.reason });
        // `[]` is documented only for an unknown id, yet the id was just listed.
        else if (!outcome.value.applied)
          refused.push({ expenzyId, reason: 'partner answered [] (not applied)' });
        else applied.push(expenzyId);
      });
      await recordMarkOutcomes(pool, applied, refused);

      result.marked = applied.length;
      result.refused = refused.length;
      result.refusedSample = refused.slice(0, SAMPLE);
      result.skipped = claim.notRecorded + claim.confirmedButListed.length + claim.sentBefore;
      metrics?.payoutsMarked.inc(result.marked);
      if (refused.length > 0)
        log.error('partner refused to set processing', { refused: refused.slice(0, 50) });
      log.info('marked payouts processing', { ...range, ...result, refusedSample: undefined });
      return result;
    });
  };
}
