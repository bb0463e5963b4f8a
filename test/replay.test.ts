import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { replayFiles } from '../tools/replay.js';

const histories = fileURLToPath(new URL('./histories/', import.meta.url));

describe('determinism guard: recorded histories replay against the current workflow code', () => {
  it('replays every recorded history', async () => {
    const results = await replayFiles([histories]);
    expect(results.length).toBeGreaterThanOrEqual(5);
    expect(results.filter((result) => result.error)).toEqual([]);
  }, 120_000);

  it('rejects an incompatible change to the workflow', async () => {
    const history = historyFromJSON(
      JSON.parse(await readFile(`${histories}expenzy-sync-continued-as-new.json`, 'utf8')),
    );
    const workflowsPath = fileURLToPath(new URL('./fixtures/reordered-workflow.ts', import.meta.url));
    await expect(Worker.runReplayHistory({ workflowsPath }, history)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  }, 120_000);

  it('the recorded histories hold both signals, reconciliation timers, retried activities and a continue-as-new', async () => {
    const events = [];
    for (const name of [
      'expenzy-sync-continued-as-new.json',
      'expenzy-sync-after-continue-as-new.json',
      'expenzy-sync-quarantine.json',
      'expenzy-sync-worker-settings.json',
      'expenzy-sync-worker-settings-unhandled.json',
      'expenzy-sync-fenced.json',
    ]) {
      const history = JSON.parse(await readFile(`${histories}${name}`, 'utf8')) as {
        events: RecordedEvent[];
      };
      events.push(...history.events);
    }
    const types = new Set(events.map((event) => event.eventType));
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    expect(types).toContain('EVENT_TYPE_TIMER_FIRED'); // reconciliation passes
    const signals = new Set(
      events.map((event) => event.workflowExecutionSignaledEventAttributes?.signalName),
    );
    expect(signals).toEqual(new Set([undefined, 'payoutsAvailable', 'workerSettings']));
    expect(events.some((event) => (event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1)).toBe(true);
    const activities = new Set(
      events.map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name),
    );
    expect(activities).toEqual(
      new Set([
        undefined,
        'FetchTransactions',
        'SettleApplied',
        'RecordPayout',
        'MarkProcessing',
        'QuarantinePayouts',
      ]),
    );
  });
});

interface RecordedEvent {
  eventType: string;
  activityTaskStartedEventAttributes?: { attempt?: number };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  workflowExecutionSignaledEventAttributes?: { signalName?: string };
}
