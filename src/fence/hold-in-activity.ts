import { hostname } from 'node:os';
import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import { fenceEpoch } from './fence-sql.js';
import type { HoldOptions, SyncFence, Tenure } from './sync-fence.js';
import type { PassRange } from '../workflows/sync-contract.js';

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

/**
 * A sending step: holds the fence and runs `send` only if the pass's list is still the newest
 * one taken inside the fence; otherwise answers `whenMoved` and sends nothing.
 */
export function sendInPass<R>(
  fence: SyncFence,
  range: PassRange,
  whenMoved: R,
  send: (tenure: Tenure) => Promise<R>,
): Promise<R> {
  return fence.hold(
    fenceHolder(),
    async (tenure) => {
      const epoch = await fenceEpoch(tenure.session);
      if (epoch === range.epoch) return send(tenure);
      log.warn('another list was taken since this pass listed: nothing sent, the pass ends', {
        ...range,
        epoch,
      });
      return whenMoved;
    },
    holdOptions(),
  );
}
