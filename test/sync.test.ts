import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncStack, type SyncStack } from './support/sync-stack.js';

describe('the sync on the real stack', () => {
  let stack: SyncStack;
  beforeAll(async () => {
    stack = await startSyncStack({ knobs: { failureRate: 0.3 } });
  });
  afterAll(async () => stack?.stop());

  it('records and marks every payout exactly once after a webhook, despite 30% update failures', async () => {
    const ids = await stack.createPayouts(120);
    expect(await stack.webhook()).toBe(200);
    const report = await stack.waitUntilConsistent(30_000);
    expect(report.checks.filter((check) => check.status !== 'OK')).toEqual([]);
    expect(report.holviRows).toBe(ids.length);
    expect(report.updates.max).toBe(1);
    expect(report.expenzy.processing).toBe(ids.length);
  });
});
