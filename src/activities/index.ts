import type { ActivityDependencies } from './dependencies.js';
import { createFetchTransactions } from './fetch-transactions.js';
import { createMarkProcessing } from './mark-processing.js';
import { createQuarantinePayouts } from './quarantine-payouts.js';
import { createRecordPayout } from './record-payout.js';

export type { ActivityDependencies } from './dependencies.js';

/** The sync's activities, named as in the design: FetchTransactions → RecordPayout → MarkProcessing. */
export function createActivities(deps: ActivityDependencies) {
  return {
    FetchTransactions: createFetchTransactions(deps),
    RecordPayout: createRecordPayout(deps),
    MarkProcessing: createMarkProcessing(deps),
    QuarantinePayouts: createQuarantinePayouts(deps),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
