import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config.js';
import {
  SYNC_WORKFLOW_TYPE,
  payoutsAvailableSignal,
  workerSettingsSignal,
  type SyncInput,
  type SyncSettings,
} from '../workflows/sync-contract.js';

export type SyncTarget = Pick<Config, 'SYNC_WORKFLOW_ID' | 'TEMPORAL_TASK_QUEUE' | 'RECONCILE_INTERVAL'>;

/**
 * Signal-with-start of the singleton sync: signals the running `expenzySync`, or starts it
 * (with the signal) when none runs. Resolves once Temporal has durably accepted the signal.
 * The plain signal is tried first because it is the common case and the cheaper call.
 */
export async function requestSync(client: Client, target: SyncTarget): Promise<void> {
  try {
    await client.workflow.getHandle(target.SYNC_WORKFLOW_ID).signal(payoutsAvailableSignal);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    await client.workflow.signalWithStart(SYNC_WORKFLOW_TYPE, {
      ...startOptions(target),
      signal: payoutsAvailableSignal,
      signalArgs: [],
    });
  }
}

/**
 * A worker's start-up call: makes sure the sync runs (so reconciliation runs even if every
 * webhook is lost), hands it this worker's settings and asks for a pass.
 */
export async function announceWorker(client: Client, target: SyncTarget): Promise<void> {
  const settings: SyncSettings = { reconcileIntervalMs: target.RECONCILE_INTERVAL };
  await client.workflow.signalWithStart(SYNC_WORKFLOW_TYPE, {
    ...startOptions(target),
    signal: workerSettingsSignal,
    signalArgs: [settings],
  });
}

function startOptions(target: SyncTarget) {
  const input: SyncInput = { reconcileIntervalMs: target.RECONCILE_INTERVAL };
  return { workflowId: target.SYNC_WORKFLOW_ID, taskQueue: target.TEMPORAL_TASK_QUEUE, args: [input] };
}
