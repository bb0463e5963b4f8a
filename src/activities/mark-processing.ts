import { log } from '@temporalio/activity';
import { claimForMarking, recordMarkOutcomes } from '../db/payout-store.js';
import { sendInPass } from '../fence/hold-in-activity.js';
import { resendRounds, type SentOutcomes } from '../fence/resend-rounds.js';
import { sendFenced } from '../fence/send-fenced.js';
import type { Tenure } from '../fence/sync-fence.js';
import { noMarks, type MarkResult, type PassRange } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';

const SAMPLE = 10;

/**
 * MarkProcessing: sets `processing` at Expenzy for one range of a pass's staged payouts, inside
 * the fence, and records the partner's confirmations on our rows.
 * Decided only from the pass's list, taken inside the fence: if another list was taken since
 * (the epoch moved: another run, workflow or deployment), nothing is sent. Each staged payout is
 * claimed before its call, so within one list it is sent at most once, whatever happens to this
 * attempt. One that failed (500, timeout) waits for a new list, which shows whether the update
 * applied or not: the pass's last chunk takes such lists at once (src/fence/resend-rounds.ts), and sends
 * again what they still show; the rest waits for the next pass (SettleApplied, or sent again).
 * Absorbs: the partner's 500s and timeouts (to a new list), a retry (a claimed payout is sent
 * again only from a new list that still shows it), a lost fence (calls aborted, the rest not sent).
 */
export function createMarkProcessing(dependencies: ActivityDependencies) {
  const { pool, expenzy, fence, maxParallelCalls, metrics } = dependencies;

  /** Sends `processing` for each id inside the fence and records the answers on our rows. */
  async function sendAndRecord(tenure: Tenure, ids: string[]): Promise<SentOutcomes> {
    const outcomes = await sendFenced(tenure, ids, maxParallelCalls, (id, signal) =>
      expenzy.updateState(id, 'processing', signal),
    );
    const applied: string[] = [];
    const refused: SentOutcomes['refused'] = [];
    let transient = 0;
    outcomes.forEach((outcome, index) => {
      const expenzyId = ids[index]!;
      // Unconfirmed and claimed (500, timeout, an answer too large to read): whether it applied
      // is left to a new list, which settles it or sends it again.
      if (outcome.kind === 'transient') transient++;
      else if (outcome.kind === 'refused') refused.push({ expenzyId, reason: outcome.reason });
      // `[]` is documented only for an unknown id, yet the id was just listed.
      else if (!outcome.value.applied)
        refused.push({ expenzyId, reason: 'partner answered [] (not applied)' });
      else applied.push(expenzyId);
    });
    await recordMarkOutcomes(pool, applied, refused);
    metrics?.payoutsMarked.inc(applied.length);
    return { applied: applied.length, refused, transient };
  }

  return async function MarkProcessing(range: PassRange): Promise<MarkResult> {
    const result = noMarks();
    return sendInPass(fence, range, { ...result, fenceMoved: true }, async (tenure) => {
      const claim = await claimForMarking(pool, range.passId, range.fromSeq, range.toSeq);
      if (claim.confirmedButListed.length > 0) {
        log.error('partner lists as notifying payouts it confirmed as processing', {
          expenzyIds: claim.confirmedButListed.slice(0, 20),
        });
      }
      const sent = await sendAndRecord(tenure, claim.toSend);
      const refused = [...sent.refused];
      result.marked = sent.applied;
      result.retryLater = sent.transient;
      // The pass's last chunk (the newest payouts: seq 0 up) gives the pass's payouts that got no
      // verdict more rounds now, each from a new list, rather than a whole pass later.
      if (range.fromSeq === 0) {
        const rounds = await resendRounds(dependencies, tenure, range.passId, (ids) =>
          sendAndRecord(tenure, ids),
        );
        result.marked += rounds.applied;
        refused.push(...rounds.refused);
        result.resent = rounds.resent;
        result.retryLater = rounds.left;
      }

      result.refused = refused.length;
      result.refusedSample = refused.slice(0, SAMPLE);
      result.skipped = claim.notRecorded + claim.confirmedButListed.length + claim.sentBefore;
      if (refused.length > 0)
        log.error('partner refused to set processing', { refused: refused.slice(0, 50) });
      log.info('marked payouts processing', { ...range, ...result, refusedSample: undefined });
      return result;
    });
  };
}
