import { hostname } from 'node:os';
import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import type { HoldOptions } from '../fence/sync-fence.js';

/** Who holds the fence, as the fence row and the logs show it: host, process, workflow, activity. */
export function fenceHolder(): string {
  const info = activityInfo();
  const { workflowId, runId } = workflowOfActivity();
  return `${hostname()}:${process.pid} ${workflowId}/${runId} ${info.activityType} attempt ${info.attempt}`;
}

/** The workflow run that scheduled the current activity. */
export function workflowOfActivity(): { workflowId: string; runId: string } {
  const execution = activityInfo().workflowExecution;
  return { workflowId: execution?.workflowId ?? '', runId: execution?.runId ?? '' };
}

/** An activity waits for the fence heartbeating, and stops waiting once cancelled. */
export function holdOptions(): HoldOptions {
  return { log, heartbeat: () => heartbeat(), cancelled: cancellationSignal() };
}
