import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECONCILE_INTERVAL_BOUNDS,
  STRAY_SYNC_ERROR,
  type SyncSettings,
} from '../../src/workflows/sync-contract.js';
import {
  gate,
  planOf,
  startWorkflowLayer,
  transientFailure,
  type ActivityCall,
  type WorkflowLayer,
} from './harness.js';

/** Server time between consecutive calls. */
const gaps = (calls: ActivityCall[]) => calls.slice(1).map((call, i) => call.atMs - calls[i]!.atMs);
/** A timer's gap: the interval, plus the few milliseconds a pass takes (the clock runs while it does). */
const expectIntervals = (calls: ActivityCall[], intervalMs: number) => {
  for (const gap of gaps(calls)) {
    expect(gap).toBeGreaterThanOrEqual(intervalMs);
    expect(gap).toBeLessThan(intervalMs + 2_000);
  }
};

let layer: WorkflowLayer;
beforeAll(async () => {
  layer = await startWorkflowLayer();
});
afterAll(async () => layer?.teardown());

describe('the reconciliation timer', () => {
  it('runs a pass at start, then one every reconcileIntervalMs without any signal', async () => {
    await layer.withSync({ input: { reconcileIntervalMs: 60_000 } }, async (sync) => {
      await sync.advance(3.5 * 60_000);
      const fetches = sync.callsOf('FetchTransactions');
      expect(fetches.map((call) => call.input)).toEqual([{ pass: 1 }, { pass: 2 }, { pass: 3 }, { pass: 4 }]);
      expectIntervals(fetches, 60_000);
      // An empty list: nothing to settle, record or mark.
      expect(sync.calls.every((call) => call.activity === 'FetchTransactions')).toBe(true);
      expect(await sync.status()).toMatchObject({
        passes: 4,
        runPasses: 4,
        signals: 0,
        pending: false,
        passRunning: false,
        reconcileIntervalMs: 60_000,
      });
    });
  });

  it('takes the interval a run is started with', async () => {
    await layer.withSync({ input: { reconcileIntervalMs: 2_500 } }, async (sync) => {
      await sync.advance(9_000);
      const fetches = sync.callsOf('FetchTransactions');
      expect(fetches).toHaveLength(4); // at 0, 2.5, 5 and 7.5 s
      expectIntervals(fetches, 2_500);
      expect((await sync.status()).reconcileIntervalMs).toBe(2_500);
    });
  });
});

describe('the workerSettings signal', () => {
  it('applies an interval within bounds, runs a pass at once, then reconciles at the new interval', async () => {
    await layer.withSync({ input: { reconcileIntervalMs: 600_000 } }, async (sync) => {
      await sync.waitFor(() => sync.callsOf('FetchTransactions').length === 1);
      await sync.advance(60_000); // the first pass is over; the next reconciliation is 10 minutes off
      expect(sync.callsOf('FetchTransactions')).toHaveLength(1);

      await sync.settings({ reconcileIntervalMs: 90_000 });
      await sync.advance(2.5 * 90_000);
      const fetches = sync.callsOf('FetchTransactions');
      expect(fetches).toHaveLength(4); // the announcement's pass, then two at 90 s
      expect(fetches[1]!.atMs - fetches[0]!.atMs).toBeLessThan(62_000);
      expectIntervals(fetches.slice(1), 90_000);
      expect(await sync.status()).toMatchObject({ reconcileIntervalMs: 90_000, signals: 0 });
    });
  });

  it(`ignores an interval outside ${JSON.stringify(RECONCILE_INTERVAL_BOUNDS)}, and still runs the pass a worker's start asks for`, async () => {
    const { minMs, maxMs } = RECONCILE_INTERVAL_BOUNDS;
    const announcements: [unknown, number][] = [
      [minMs - 1, 60_000],
      [maxMs + 1, 60_000],
      [1_500.5, 60_000],
      ['5000', 60_000],
      [undefined, 60_000],
      [minMs, minMs],
      [maxMs, maxMs],
    ];
    await layer.withSync({ input: { reconcileIntervalMs: 60_000 } }, async (sync) => {
      for (const [reconcileIntervalMs, expected] of announcements) {
        const before = sync.callsOf('FetchTransactions').length;
        await sync.settings({ reconcileIntervalMs } as SyncSettings);
        await sync.waitFor(() => sync.callsOf('FetchTransactions').length > before);
        expect([reconcileIntervalMs, (await sync.status()).reconcileIntervalMs]).toEqual([
          reconcileIntervalMs,
          expected,
        ]);
      }
    });
  });
});

describe('signals and the status query', () => {
  it('coalesces the signals that arrive while a pass runs into one more pass', async () => {
    const held = gate();
    const stubs = {
      FetchTransactions: async ({ pass }: { pass: number }) => {
        if (pass === 1) await held.wait;
        return planOf(pass);
      },
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.waitFor(() => sync.calls.length === 1);
      for (let i = 0; i < 5; i++) await sync.signal();
      expect(await sync.status()).toMatchObject({ passRunning: true, pending: true, signals: 5, passes: 0 });
      held.open();
      await sync.advance(30_000); // half the interval: no reconciliation pass yet
      expect(sync.callsOf('FetchTransactions').map((call) => call.input)).toEqual([{ pass: 1 }, { pass: 2 }]);
      expect(await sync.status()).toMatchObject({
        passRunning: false,
        pending: false,
        signals: 5,
        passes: 2,
      });
    });
  });

  it('runs a pass step by step, oldest chunk first, and counts what each step reports', async () => {
    const plan = planOf(7, { payouts: 25, rejected: 3, settle: 4 });
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => (pass === 1 ? plan : planOf(pass)),
      SettleApplied: () => ({ settled: 4, inError: 1 }),
      RecordPayout: () => ({ inserted: 22, refused: 3 }),
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(1_000);
      const range = (fromSeq: number, toSeq: number) => ({ passId: 7, epoch: 7, fromSeq, toSeq });
      expect(sync.calls.map((call) => [call.activity, call.input])).toEqual([
        ['FetchTransactions', { pass: 1 }],
        ['SettleApplied', { passId: 7 }],
        ['RecordPayout', { passId: 7, payoutSeqEnd: 25 }],
        ['MarkProcessing', range(15, 25)],
        ['MarkProcessing', range(5, 15)],
        ['MarkProcessing', range(0, 5)],
        ['QuarantinePayouts', range(0, 3)],
      ]);
      expect(await sync.status()).toMatchObject({
        passes: 1,
        recorded: 22,
        marked: 25 + 4, // marked, and settled (applied, answer lost)
        rejected: 3,
        lastBacklog: 25,
        pending: false,
      });
    });
  });
});

describe('a sync under another workflow id', () => {
  it('ends with the stray-sync error when FetchTransactions refuses it', async () => {
    const message = 'this sync runs under workflow id "x", but the configured SYNC_WORKFLOW_ID is "y"';
    const stubs = {
      FetchTransactions: () => {
        throw ApplicationFailure.nonRetryable(message, STRAY_SYNC_ERROR);
      },
    };
    await layer.withSync({ stubs }, async (sync) => {
      const failure = await sync.handle.result().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: STRAY_SYNC_ERROR, message, nonRetryable: true });
      expect(sync.calls).toHaveLength(1);
    });
  });

  it('retries any other FetchTransactions failure instead of ending', async () => {
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }, call: ActivityCall) => {
        if (call.attempt < 3) throw transientFailure('partner unavailable');
        return planOf(pass);
      },
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(1_000);
      const fetches = sync.callsOf('FetchTransactions');
      expect(fetches.map((call) => call.attempt)).toEqual([1, 2, 3]);
      const [first, second] = gaps(fetches);
      expect(first).toBeGreaterThanOrEqual(100); // fetchOptions' backoff: 100 ms, doubling
      expect(second).toBeGreaterThanOrEqual(200);
      expect(await sync.status()).toMatchObject({ passes: 1 });
      expect((await sync.handle.describe()).status.name).toBe('RUNNING');
    });
  });
});
