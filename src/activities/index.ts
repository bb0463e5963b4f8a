import { log } from '@temporalio/activity';
import type { ActivityDependencies } from './dependencies.js';
import { createFetchTransactions } from './fetch-transactions.js';
import { createMarkProcessing } from './mark-processing.js';
import { createQuarantinePayouts } from './quarantine-payouts.js';
import { createRecordPayout } from './record-payout.js';
import { createSettleApplied } from './settle-applied.js';

export type { ActivityDependencies } from './dependencies.js';

/**
 * The sync's activities, named as in the design: FetchTransactions → SettleApplied →
 * RecordPayout → MarkProcessing (→ QuarantinePayouts for malformed payouts).
 */
export function createActivities(deps: ActivityDependencies) {
  return {
    FetchTransactions: acceptingPreviousVersion(
      createFetchTransactions(deps),
      previous.isFetch,
      previous.fetch,
    ),
    SettleApplied: createSettleApplied(deps),
    RecordPayout: acceptingPreviousVersion(createRecordPayout(deps), previous.isList, previous.record),
    MarkProcessing: acceptingPreviousVersion(createMarkProcessing(deps), previous.isList, previous.mark),
    QuarantinePayouts: acceptingPreviousVersion(
      createQuarantinePayouts(deps),
      previous.isList,
      previous.quarantine,
    ),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;

/**
 * Runs of the workflow's previous version (before the fence: payout lists in the history) may
 * have an activity scheduled with the old input when this worker takes over in a rolling
 * deploy. Sending from such a list would bypass the fence, so those calls do nothing: they
 * answer in the old shape that every payout is left to the next pass, which lists it again
 * inside the fence. Remove once no run of the previous version can be open.
 */
function acceptingPreviousVersion<I, R>(
  current: (input: I) => Promise<R>,
  isPrevious: (input: unknown) => boolean,
  previousAnswer: (input: unknown) => unknown,
): (input: I) => Promise<R> {
  const wrapped = async (input: I): Promise<R> => {
    if (!isPrevious(input)) return current(input);
    log.warn('activity scheduled by the previous workflow version: left to the next pass', {
      activity: current.name,
    });
    // The previous version's workflow code reads this shape; the declared type is the current one's.
    return previousAnswer(input) as R;
  };
  Object.defineProperty(wrapped, 'name', { value: current.name });
  return wrapped;
}

const count = (input: unknown) => (Array.isArray(input) ? input.length : 0);

const previous = {
  isFetch: (input: unknown) => input === undefined,
  fetch: () => ({ payouts: [], rejected: [], remaining: 0, settled: 0 }),
  isList: (input: unknown) => Array.isArray(input),
  record: (input: unknown) => ({ inserted: 0, alreadyRecorded: count(input) }),
  mark: (input: unknown) => ({
    marked: 0,
    alreadyProcessing: 0,
    skipped: 0,
    retryLater: count(input),
    failed: [],
  }),
  quarantine: (input: unknown) => ({ quarantined: 0, setToError: 0, unsettled: 0, retryLater: count(input) }),
};
