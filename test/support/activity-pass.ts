import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { createActivities } from '../../src/activities/index.js';
import { chunkCount, oldestChunk } from '../../src/workflows/pass-chunks.js';

export const SYNC_ID = 'expenzy-sync-test';

/** MockActivityEnvironment with the activity's own types (its run() cannot infer the result). */
export class ActivityEnv extends MockActivityEnvironment {
  constructor(info?: ConstructorParameters<typeof MockActivityEnvironment>[0], workflowId = SYNC_ID) {
    super(
      { workflowExecution: { workflowId, runId: 'run-1' }, ...info },
      { logger: new DefaultLogger('WARN') },
    );
  }

  call<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
    return this.run(fn, ...args) as Promise<R>;
  }
}

type Activities = ReturnType<typeof createActivities>;

/**
 * One whole pass, step by step, as the workflow runs it; returns what each step said.
 * `afterFetch` runs between the list and the recording (a test may change what was staged).
 */
export async function runPass(
  activities: Activities,
  afterFetch: (plan: Awaited<ReturnType<Activities['FetchTransactions']>>) => Promise<void> = async () => {},
  env = new ActivityEnv(),
) {
  const plan = await env.call(activities.FetchTransactions, { pass: 1 });
  await afterFetch(plan);
  const settled = plan.settle > 0 ? await env.call(activities.SettleApplied, plan) : undefined;
  const recorded = await env.call(activities.RecordPayout, plan);
  const marked = [];
  for (let done = 0; done < chunkCount(plan.payoutSeqEnd, plan.chunkSize); done++) {
    marked.push(await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, done)));
  }
  const quarantined = [];
  for (let done = 0; done < chunkCount(plan.rejectedSeqEnd, plan.chunkSize); done++) {
    quarantined.push(
      await env.call(activities.QuarantinePayouts, oldestChunk(plan, plan.rejectedSeqEnd, done)),
    );
  }
  return { plan, settled, recorded, marked, quarantined };
}
