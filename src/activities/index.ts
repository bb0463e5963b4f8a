import type { ActivityDependencies } from './dependencies.js';
import { createFetchTransactions } from './fetch-transactions.js';
import { createMarkProcessing } from './mark-processing.js';
import { acceptingPreviousVersion, previousVersion as previous } from './previous-version.js';
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
