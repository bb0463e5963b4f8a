import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { RECONCILE_INTERVAL_SECONDS } from '../sizes.js';
import {
  afterQuietPass,
  checkUpdatedOnce,
  createBacklog,
  notifyingAtPartner,
  startedActivity,
  webhook,
} from '../steps.js';

/**
 * Exactly-once windows opened by what is done to the sync's workflow from outside (issue 10): a
 * second sync beside the singleton, and the runbook's terminate and reset while MarkProcessing
 * sends. Each ends, like every scenario, on the report: nothing duplicated or missing, and no
 * payout updated twice at the partner.
 */

const STRAY_WORKFLOW_ID = 'expenzy-sync-stray';
/** The largest EXPENZY_MAX_PARALLEL_CALLS src/config.ts accepts. */
const MAX_PARALLEL_CALLS = 256;

/** The worker sends MarkProcessing's updates for this long before the operator strikes. */
const SENDING_BEFORE_STRIKE_MS = 1_000;

/**
 * The backlog made right after a pass (so that the next pass sees all of it), a webhook, and
 * MarkProcessing seen sending it; resolves once it has been sending for a moment.
 */
async function backlogBeingMarked(context: ScenarioContext): Promise<void> {
  if (!(await afterQuietPass(context))) context.log('warning: no quiet pass before the backlog');
  await createBacklog(context, context.sizes.backlogPayouts);
  await webhook(context);
  if (!(await startedActivity(context, 'MarkProcessing')))
    throw new Error('no MarkProcessing started for the backlog within 30 s');
  await sleep(SENDING_BEFORE_STRIKE_MS);
}

export const secondWorkflow: Scenario = {
  name: 'second-workflow',
  title: 'A second expenzySync under another workflow id on the same task queue, while payouts flow',
  async inject({ faults, produce, sizes, onCleanup }) {
    // A slow partner that fails a fifth of the updates: passes are long and repeat.
    await faults.setKnobs({ latencyMs: '50-200', failureRate: 0.2 });
    // As by hand, or by a deploy that changed SYNC_WORKFLOW_ID while old API replicas still run.
    onCleanup(await faults.startStraySync(STRAY_WORKFLOW_ID, RECONCILE_INTERVAL_SECONDS * 1000));
    await produce({ count: sizes.strayPayouts }).done;
  },
  async verify(context, report) {
    const { clients, check, figures } = context;
    // Either outcome is safe: the stray run fails at once, or it keeps running but cannot send.
    // Whether it is closed is checked apart, to show which of the two happened.
    const status = await clients.workflowStatus(STRAY_WORKFLOW_ID);
    figures.strayStatus = status ?? 'unknown';
    if (status === 'FAILED') {
      const failure = await clients.temporal.workflow
        .getHandle(STRAY_WORKFLOW_ID)
        .result()
        .then(
          () => 'completed',
          (error: Error) => (error.cause instanceof Error ? error.cause.message : error.message),
        );
      figures.strayFailure = failure.slice(0, 200);
    }
    check('stray run closed by the end', status !== null && status !== 'RUNNING', `status ${status}`);
    checkUpdatedOnce(context, report);
  },
};

export const terminateMidSend: Scenario = {
  name: 'terminate-mid-send',
  title: "The runbook's terminate while MarkProcessing sends (two workers), then a webhook starts a new run",
  async inject(context) {
    const { faults, onCleanup, figures } = context;
    // Two workers, as any production deployment has, each allowed the most partner calls in
    // flight. At the default 16 the old attempt's calls queue in its worker's call limiter, and a
    // new run's list handed to that worker waits behind them: the window stays shut. With wide
    // limiters the new run's list meets the old attempt's updates at the partner whichever worker
    // Temporal hands it to.
    const wide = { EXPENZY_MAX_PARALLEL_CALLS: String(MAX_PARALLEL_CALLS) };
    const [restore, stopSecond] = await Promise.all([
      faults.restartWorker(wide),
      faults.startSecondWorker(wide),
    ]);
    onCleanup(restore);
    onCleanup(stopSecond);
    // Slow updates and a fast list: a list taken while updates are in flight still shows their
    // payouts `notifying`.
    await faults.setKnobs({ latencyMs: '2000-3000', listLatencyMs: '0' });
    await backlogBeingMarked(context);
    figures.notifyingAtTerminate = await notifyingAtPartner(context);
    await faults.terminateSync('while MarkProcessing sends');
    // Signal-with-start: a new run, whose first pass lists at once.
    await webhook(context);
  },
  verify: checkUpdatedOnce,
};

export const resetLastTask: Scenario = {
  name: 'reset-last-task',
  title: "The runbook's reset to the last workflow task while MarkProcessing sends",
  async inject(context) {
    const { faults, figures } = context;
    await faults.setKnobs({ latencyMs: '200-400' });
    await backlogBeingMarked(context);
    figures.notifyingAtReset = await notifyingAtPartner(context);
    // The new run replays to the workflow task that scheduled MarkProcessing and schedules it
    // again, while the old run's attempt goes on sending.
    await faults.resetSync('while MarkProcessing sends');
  },
  verify: checkUpdatedOnce,
};
