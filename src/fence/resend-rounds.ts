import { cancellationSignal, log } from '@temporalio/activity';
import { sentWithoutVerdict } from '../db/payout-store.js';
import { FenceLostError, type Tenure } from './sync-fence.js';
import {
  PartnerRejectedRequestError,
  PartnerResponseError,
  PartnerUnavailableError,
} from '../partner/errors.js';
import { listedUuids } from '../partner/payout-parser.js';
import type { ActivityDependencies } from '../activities/dependencies.js';

/** Rounds after the pass's last chunk; each needs the one before it to have confirmed a payout. */
export const MAX_RESEND_ROUNDS = 3;

/** Entries parsed per batch while a round's list streams; only the ids are kept. */
const LIST_BATCH = 1_000;

/** What one batch of sends came to, as MarkProcessing counts it. */
export interface SentOutcomes {
  applied: number;
  refused: { expenzyId: string; reason: string }[];
  transient: number;
}

export interface RoundsOutcome {
  applied: number;
  refused: { expenzyId: string; reason: string }[];
  /** Sends made in the rounds. */
  resent: number;
  /** The pass's payouts still without a verdict, left to the next pass (counted up to a chunk and one). */
  left: number;
}

/**
 * The pass's last MarkProcessing, still holding the fence, gives the pass's payouts that were
 * sent without a verdict (a 500: the call is over at the partner, but did it apply?) more rounds
 * instead of leaving them to the next pass. Each round takes a new list of `notifying` payouts and
 * sends again those it still shows.
 * Safe for the reason the next pass's list is: it is taken inside the fence with no call in
 * flight. The tenure began after every earlier holder's calls were over, and every call of this
 * one has settled with an answer (one cut short may still land: no round then). A payout the list
 * shows has no update applied and none on its way. One it no longer shows is left unconfirmed:
 * the next pass's SettleApplied confirms it from that pass's own list.
 * Bounded: at most one chunk of ids per round (more, and the rest is left to the next pass, as is
 * everything after a failed list or a round that confirmed nothing).
 */
export async function resendRounds(
  { pool, expenzy, batchSize }: Pick<ActivityDependencies, 'pool' | 'expenzy' | 'batchSize'>,
  tenure: Tenure,
  passId: number,
  send: (ids: string[]) => Promise<SentOutcomes>,
): Promise<RoundsOutcome> {
  const total: RoundsOutcome = { applied: 0, refused: [], resent: 0, left: 0 };
  let waiting = await sentWithoutVerdict(pool, passId, batchSize + 1);
  for (let round = 1; round <= MAX_RESEND_ROUNDS; round++) {
    if (tenure.cutShort || cancellationSignal().aborted) break;
    if (waiting.length === 0 || waiting.length > batchSize) break;
    const stillListed = await listedAmong(expenzy, waiting, tenure);
    if (stillListed === undefined || stillListed.length === 0) break;
    const sent = await send(stillListed);
    total.applied += sent.applied;
    total.refused.push(...sent.refused);
    total.resent += stillListed.length;
    log.info('sent again the payouts a new list still shows as notifying', {
      passId,
      round,
      waiting: waiting.length,
      stillListed: stillListed.length,
      applied: sent.applied,
    });
    waiting = await sentWithoutVerdict(pool, passId, batchSize + 1);
    if (sent.applied === 0) break;
  }
  total.left = waiting.length;
  return total;
}

/**
 * Which of `ids` the partner lists as `notifying` now, or undefined when the list failed (the
 * round is left to the next pass). Only ids are kept, however long the list.
 */
async function listedAmong(
  expenzy: ActivityDependencies['expenzy'],
  ids: string[],
  tenure: Tenure,
): Promise<string[] | undefined> {
  const wanted = new Set(ids);
  const found = new Set<string>();
  try {
    await tenure.assertHeld();
    await expenzy.forEachListed(
      'notifying',
      LIST_BATCH,
      async (entries) => {
        for (const id of listedUuids(entries)) if (wanted.has(id)) found.add(id);
      },
      tenure.signal,
    );
  } catch (error) {
    const partnerOrFence =
      error instanceof PartnerUnavailableError ||
      error instanceof PartnerResponseError ||
      error instanceof PartnerRejectedRequestError ||
      error instanceof FenceLostError;
    if (!partnerOrFence) throw error;
    log.warn('no list for another round: left to the next pass', { error: (error as Error).message });
    return undefined;
  }
  return ids.filter((id) => found.has(id));
}
