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
  /** Bytes of the largest single run's history (the server's historySize): also limited (50 MB). */
  maxRunBytes: number;
  /** Bytes of every run with events in the case, whole (the first run's warm-up included). */
  bytes: number;
  signals: number;
  workflowTasks: number;
  activitiesScheduled: Record<string, number>;
  /** Attempts, from each ActivityTaskStarted's attempt number (retries leave no event of their own). */
  activityAttempts: number;
  /** Attempts that ended in a timeout (start-to-close, heartbeat): the last before each retry, and final ones. */
  timedOutAttempts: number;
  timers: number;
  continueAsNew: number;
  /** Where a pass's time goes, from the events' timestamps (ms, means over the case). */
  timing: {
    /** ActivityTaskScheduled → ActivityTaskStarted: waiting for the worker to pick the task up. */
    activityScheduleToStartMs: number | null;
    /** ActivityTaskStarted → ActivityTaskCompleted: the activity's own work (last attempt). */
    activityRunMs: number | null;
    /** WorkflowTaskScheduled → WorkflowTaskCompleted: one decision of the workflow, round trip. */
    workflowTaskMs: number | null;
    /** ActivityTaskCompleted → the next ActivityTaskStarted in the same pass: Temporal's hop between steps. */
    hopBetweenActivitiesMs: number | null;
    /** Mean run time per activity type (FetchTransactions, RecordPayout, MarkProcessing…). */
    activityRunMsByType: Record<string, number>;
  };
}

const eventMs = (event: HistoryEvent) => (event.eventTime ? tsToMs(event.eventTime) : 0);

/**
 * Every run of `workflowId`, newest first, found by following each run's
 * `continuedExecutionRunId` back from the latest (visibility's list may lag; this does not),
 * and the events of those runs stamped at or after `fromMs` (the case's start).
 */
export async function temporalCost(
  client: Client,
  workflowId: string,
  fromMs: number,
): Promise<TemporalCost> {
  const cost: TemporalCost = {
    runs: 0,
    events: 0,
    maxRunEvents: 0,
    maxRunBytes: 0,
    bytes: 0,
    signals: 0,
    workflowTasks: 0,
    activitiesScheduled: {},
    activityAttempts: 0,
    timedOutAttempts: 0,
    timers: 0,
    continueAsNew: 0,
    timing: {
      activityScheduleToStartMs: null,
      activityRunMs: null,
      workflowTaskMs: null,
      hopBetweenActivitiesMs: null,
      activityRunMsByType: {},
    },
  };
  const durations: Durations = { scheduleToStart: [], run: [], wft: [], hop: [], byType: {} };
  let runId: string | undefined;
  for (;;) {
    const handle = client.workflow.getHandle(workflowId, runId);
    const history = await handle.fetchHistory();
    const size = (await handle.describe()).historySize ?? 0;
    const events = history.events ?? [];
    cost.maxRunEvents = Math.max(cost.maxRunEvents, events.length);
    cost.maxRunBytes = Math.max(cost.maxRunBytes, size);
    const inCase = events.filter((event) => eventMs(event) >= fromMs);
    if (inCase.length > 0) {
      cost.runs++;
      cost.bytes += size;
    }
    collectDurations(inCase, durations);
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
      if (started?.lastFailure?.timeoutFailureInfo) cost.timedOutAttempts++;
      if (event.activityTaskTimedOutEventAttributes) cost.timedOutAttempts++;
    }
    const start = events[0]?.workflowExecutionStartedEventAttributes;
    const previous = start?.continuedExecutionRunId;
    // Older runs end before this one starts: stop once this run began before the case.
    if (!previous || (events[0] && eventMs(events[0]) < fromMs)) break;
    runId = previous;
  }
  const mean = (values: number[]) =>
    values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  cost.timing = {
    activityScheduleToStartMs: mean(durations.scheduleToStart),
    activityRunMs: mean(durations.run),
    workflowTaskMs: mean(durations.wft),
    hopBetweenActivitiesMs: mean(durations.hop),
    activityRunMsByType: Object.fromEntries(
      Object.entries(durations.byType).map(([type, values]) => [type, mean(values) ?? 0]),
    ),
  };
  return cost;
}

const idOf = (value: unknown) => String(value ?? '');

/** Pairs events by their scheduled event id; a hop is a completion followed by the next activity's start. */
interface Durations {
  scheduleToStart: number[];
  run: number[];
  wft: number[];
  hop: number[];
  byType: Record<string, number[]>;
}

function collectDurations(events: HistoryEvent[], into: Durations): void {
  const scheduledAt = new Map<string, number>();
  const typeOf = new Map<string, string>();
  const startedAt = new Map<string, number>();
  const wftScheduledAt = new Map<string, number>();
  let lastCompletion: number | undefined;
  for (const event of events) {
    const at = eventMs(event);
    const id = idOf(event.eventId);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      scheduledAt.set(id, at);
      typeOf.set(id, scheduled.activityType?.name ?? 'unknown');
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const scheduled = scheduledAt.get(idOf(started.scheduledEventId));
      if (scheduled !== undefined) into.scheduleToStart.push(at - scheduled);
      startedAt.set(idOf(started.scheduledEventId), at);
      if (lastCompletion !== undefined) into.hop.push(at - lastCompletion);
      lastCompletion = undefined;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      const began = startedAt.get(idOf(completed.scheduledEventId));
      if (began !== undefined) {
        into.run.push(at - began);
        const type = typeOf.get(idOf(completed.scheduledEventId)) ?? 'unknown';
        (into.byType[type] ??= []).push(at - began);
      }
      lastCompletion = at;
    }
    // A pass ends waiting for a signal: the next activity belongs to another pass.
    if (event.timerStartedEventAttributes) lastCompletion = undefined;
    if (event.workflowTaskScheduledEventAttributes) wftScheduledAt.set(id, at);
    const wftCompleted = event.workflowTaskCompletedEventAttributes;
    if (wftCompleted) {
      const scheduled = wftScheduledAt.get(idOf(wftCompleted.scheduledEventId));
      if (scheduled !== undefined) into.wft.push(at - scheduled);
    }
  }
}

/** Ends the case's workflow (the next case uses a workflow id of its own). */
export async function terminateQuietly(client: Client, workflowId: string): Promise<void> {
  await client.workflow
    .getHandle(workflowId)
    .terminate('benchmark case finished')
    .catch(() => undefined);
}

/**
 * Terminates every running workflow on the bench's task queue. A sync left running by an
 * earlier run (another workflow id, e.g. the default one of `make up`) would be served by the
 * bench's worker too, and two syncs at once would update payouts twice.
 */
export async function terminateLeftovers(client: Client, taskQueue: string): Promise<number> {
  let count = 0;
  const query = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
  for await (const execution of client.workflow.list({ query })) {
    await terminateQuietly(client, execution.workflowId);
    count++;
  }
  return count;
}
