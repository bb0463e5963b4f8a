import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { announceWorker, requestSync, type SyncTarget } from '../src/temporal/sync-client.js';

describe('requestSync on the real Temporal dev server', () => {
  let client: Client;
  const target: SyncTarget = {
    SYNC_WORKFLOW_ID: `request-sync-${randomBytes(4).toString('hex')}`,
    TEMPORAL_TASK_QUEUE: `request-sync-${randomBytes(4).toString('hex')}`, // no worker: the run stays put
    RECONCILE_INTERVAL: 30_000,
  };
  beforeAll(async () => {
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  });
  afterAll(async () => client.connection.close());

  it('starts the singleton with the signal when none runs, then only signals it', async () => {
    await requestSync(client, target);
    const handle = client.workflow.getHandle(target.SYNC_WORKFLOW_ID);
    const first = (await handle.describe()).runId;
    await requestSync(client, target);
    await requestSync(client, target);
    expect((await handle.describe()).runId).toBe(first);
    const history = await handle.fetchHistory();
    const signals = history.events?.filter((event) => event.workflowExecutionSignaledEventAttributes) ?? [];
    expect(signals).toHaveLength(3);
  });

  it('starts a new run when the previous one was terminated', async () => {
    const handle = client.workflow.getHandle(target.SYNC_WORKFLOW_ID);
    const before = (await handle.describe()).runId;
    await handle.terminate('test');
    await requestSync(client, target);
    const after = await client.workflow.getHandle(target.SYNC_WORKFLOW_ID).describe();
    expect(after.runId).not.toBe(before);
    expect(after.status.name).toBe('RUNNING');
    await client.workflow.getHandle(target.SYNC_WORKFLOW_ID).terminate('test finished');
  });

  it("announces a worker: starts the singleton when none runs, else signals the worker's settings", async () => {
    const announced: SyncTarget = { ...target, SYNC_WORKFLOW_ID: `${target.SYNC_WORKFLOW_ID}-announce` };
    await announceWorker(client, announced);
    const handle = client.workflow.getHandle(announced.SYNC_WORKFLOW_ID);
    const first = (await handle.describe()).runId;
    await announceWorker(client, { ...announced, RECONCILE_INTERVAL: 5_000 });
    expect((await handle.describe()).runId).toBe(first);
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.workflowType?.name).toBe('expenzySync');
    const signals = (history.events ?? []).flatMap((event) => {
      const signal = event.workflowExecutionSignaledEventAttributes;
      return signal ? [signal.signalName] : [];
    });
    expect(signals).toEqual(['workerSettings', 'workerSettings']);
    await handle.terminate('test finished');
  });
});
