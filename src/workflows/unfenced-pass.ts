import { log, proxyActivities } from '@temporalio/workflow';
import type { SyncCounters } from './sync-contract.js';
import { fetchOptions, markOptions, recordOptions } from './activity-options.js';
import { orLeaveToNextPass } from './leave-to-next-pass.js';

/**
 * The pass of the workflow's previous version, before the fence (payout lists crossed the
 * history). Kept only so that runs recorded with it replay: `patched('fenced-pass')` sends every
 * new pass to the fenced one, and the activities answer this one's calls without sending
 * anything (src/activities/index.ts). Remove once no such run can be open.
 */
interface UnfencedActivities {
  FetchTransactions(): Promise<{
    payouts: { expenzyId: string }[];
    rejected: unknown[];
    remaining: number;
    settled?: number;
  }>;
  RecordPayout(payouts: unknown[]): Promise<{ inserted: number }>;
  MarkProcessing(ids: string[]): Promise<{
    marked: number;
    alreadyProcessing: number;
    retryLater: number;
    failed: unknown[];
  }>;
  QuarantinePayouts(
    rejected: unknown[],
  ): Promise<{ quarantined: number; setToError: number; retryLater: number }>;
}

const { FetchTransactions } = proxyActivities<UnfencedActivities>(fetchOptions);
const { RecordPayout } = proxyActivities<UnfencedActivities>(recordOptions);
const { MarkProcessing, QuarantinePayouts } = proxyActivities<UnfencedActivities>(markOptions);

export async function runUnfencedPass(counters: SyncCounters): Promise<{ more: boolean; backlog: number }> {
  const fetched = await FetchTransactions();
  let progressed = false;
  let retryLater = 0;
  counters.marked += fetched.settled ?? 0;
  if (fetched.payouts.length > 0) {
    const recorded = await RecordPayout(fetched.payouts);
    counters.recorded += recorded.inserted;
    progressed ||= recorded.inserted > 0;
    const ids = fetched.payouts.map((payout) => payout.expenzyId);
    const marked = await orLeaveToNextPass(MarkProcessing(ids), ids.length);
    if (marked) {
      counters.marked += marked.marked + marked.alreadyProcessing;
      progressed ||= marked.marked + marked.alreadyProcessing > 0;
      retryLater += marked.retryLater;
      if (marked.failed.length > 0)
        log.warn('payouts the partner refused to mark', { failed: marked.failed.length });
    }
  }
  if (fetched.rejected.length > 0) {
    const quarantined = await orLeaveToNextPass(QuarantinePayouts(fetched.rejected), fetched.rejected.length);
    if (quarantined) {
      counters.rejected += quarantined.quarantined;
      progressed ||= quarantined.quarantined + quarantined.setToError > 0;
      retryLater += quarantined.retryLater;
    }
  }
  return { more: fetched.remaining + retryLater > 0 && progressed, backlog: fetched.remaining };
}
