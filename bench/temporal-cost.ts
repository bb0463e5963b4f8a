import type { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** What the sync cost Temporal during one case, counted from the server's histories. */
export interface TemporalCost {
  /** Runs of the workflow id that have events in the case (continue-as-new makes more than one). */
  runs: number;
  events: number;
  /** Events of the longest single run, whole (warm-up included): what Temporal's limits apply to. */
  maxRunEvents: number;
  signals: number;
  workflowTasks: number;
  activitiesScheduled: Record<string, number>;
  /** Attempts, from each ActivityTaskStarted's attempt number (retries leave no event of their own). */
  activityAttempts: number;
  timers: number;
  continueAsNew: number;
}

const eventMs = (event: HistoryEvent) => (event.eventTime ? tsToMs(event.eventTime) : 0);

/**
 * Every run of `workflowId`, newest first, found by following each run's
 * `continuedExecutionRunId` back from the latest (visibility's list may lag; this does not),
 * and the events of those runs stamped at or after `fromMs` (the case's start).
 */
export async function temporalCost(client: Client, workflowId: string, fromMs: number): Promise<TemporalCost> {
  const cost: TemporalCost = {
    runs: 0,
    events: 0,
    maxRunEvents: 0,
    signals: 0,
    workflowTasks: 0,
    activitiesScheduled: {},
    activityAttempts: 0,
    timers: 0,
    continueAsNew: 0,
  };
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    cost.maxRunEvents = Math.max(cost.maxRunEvents, events.length);
    const inCase = events.filter((event) => eventMs(event) >= fromMs);
    if (inCase.length > 0) cost.runs++;
    for (const event of inCase) {
      cost.events++;
      if (event.workflowExecutionSignaledEventAttributes) cost.signals++;
      if (event.workflowTaskCompletedEventAttributes) cost.workflowTasks++;
      if (event.timerStartedEventAttributes) cost.timers++;
      if (event.workflowExecutionContinuedAsNewEventAttributes) cost.continueAsNew++;
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const type = scheduled.activityType?.name ?? 'unknown';
        cost.activitiesScheduled[type] = (cost.activitiesScheduled[type] ?? 0) + 1;
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) cost.activityAttempts += started.attempt ?? 1;
    }
    const start = events[0]?.workflowExecutionStartedEventAttributes;
    const previous = start?.continuedExecutionRunId;
    // Older runs end before this one starts: stop once this run began before the case.
    if (!previous || (events[0] && eventMs(events[0]) < fromMs)) break;
    runId = previous;
  }
  return cost;
}

/** Ends the case's workflow (the next case uses a workflow id of its own). */
export async function terminateQuietly(client: Client, workflowId: string): Promise<void> {
  await client.workflow
    .getHandle(workflowId)
    .terminate('benchmark case finished')
    .catch(() => undefined);
}
