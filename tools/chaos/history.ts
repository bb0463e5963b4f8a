import type { Client } from '@temporalio/client';

/**
 * What the sync's Temporal history says about a scenario: the activities retried after an attempt
 * timed out (a killed worker's attempts end this way), by activity and timeout type. It explains
 * a slow convergence: an activity without a heartbeat timeout is retried only at its
 * start-to-close timeout. (Retries leave no event of their own: an activity's started event,
 * written when it ends, carries the last attempt's number and the failure before it.)
 */

const timeoutTypes: Record<number, string> = {
  1: 'start-to-close',
  2: 'schedule-to-start',
  3: 'schedule-to-close',
  4: 'heartbeat',
};

interface Timestamp {
  seconds?: number | { toNumber(): number } | null;
  nanos?: number | null;
}

const millis = (time: Timestamp | null | undefined) =>
  time ? Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6 : 0;

/** "FetchTransactions start-to-close x1, MarkProcessing heartbeat x2", or "" when none. */
export async function activityTimeoutsSince(
  client: Client,
  workflowId: string,
  sinceEpochMs: number,
): Promise<string> {
  const counts = new Map<string, number>();
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    if (run.closeTime && run.closeTime.getTime() < sinceEpochMs) continue;
    const history = await client.workflow.getHandle(workflowId, run.runId).fetchHistory();
    const activityTypes = new Map<string, string>();
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) activityTypes.set(id, scheduled.activityType?.name ?? '?');
      const started = event.activityTaskStartedEventAttributes;
      const timeout = started?.lastFailure?.timeoutFailureInfo;
      if (!started || !timeout || millis(event.eventTime as Timestamp) < sinceEpochMs) continue;
      const type = timeoutTypes[Number(timeout.timeoutType)] ?? 'timeout';
      const key = `${activityTypes.get(String(started.scheduledEventId)) ?? '?'} ${type}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts].map(([key, count]) => `${key} x${count}`).join(', ');
}
