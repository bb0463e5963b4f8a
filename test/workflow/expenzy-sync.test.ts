import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HISTORY_EVENTS, MAX_PASSES_PER_RUN } from '../../src/workflows/expenzy-sync.js';
import {
  RECONCILE_INTERVAL_BOUNDS,
  STRAY_SYNC_ERROR,
  type MarkResult,
  type PassRange,
  type SyncInput,
  type SyncSettings,
} from '../../src/workflows/sync-contract.js';
import {
  gate,
  markResult,
  planOf,
  startWorkflowLayer,
  transientFailure,
  type ActivityCall,
  type SyncRun,
  type WorkflowLayer,
} from './harness.js';

// The expenzySync workflow's logic on Temporal's time-skipping test server, its activities
// stubbed (./harness.ts): timers, retry backoffs and failure backoffs are skipped, not waited for.
// What needs the real activities, PostgreSQL, the partner or HTTP is in test/sync.test.ts.

/** Server time between consecutive calls. */
const gaps = (calls: ActivityCall[]) => calls.slice(1).map((call, i) => call.atMs - calls[i]!.atMs);
/** A timer's gap: the interval, plus the few milliseconds a pass takes (the clock runs while it does). */
const expectIntervals = (calls: ActivityCall[], intervalMs: number) => {
  for (const gap of gaps(calls)) {
    expect(gap).toBeGreaterThanOrEqual(intervalMs);
    expect(gap).toBeLessThan(intervalMs + 2_000);
  }
};
/** Each run's calls, in the order the runs started. */
const byRun = (calls: ActivityCall[]) => {
  const runs = new Map<string, ActivityCall[]>();
  for (const call of calls) runs.set(call.runId, [...(runs.get(call.runId) ?? []), call]);
  return [...runs.values()];
};
const steps = (calls: ActivityCall[]) => calls.map((call) => [call.activity, call.input]);
const range = (passId: number, fromSeq: number, toSeq: number) => ({ passId, epoch: passId, fromSeq, toSeq });
const passesOf = (calls: ActivityCall[]) => calls.map((call) => (call.input as PassRange).passId);

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
      expect(fetches[1]!.atMs - fetches[0]!.atMs).toBeLessThan(90_000); // not at the 10-minute timer
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
      RecordPayout: () => ({ inserted: 22, refused: 3 }), // 3 refused by PostgreSQL: not recorded
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(30_000);
      expect(sync.calls.map((call) => [call.activity, call.input])).toEqual([
        ['FetchTransactions', { pass: 1 }],
        ['SettleApplied', { passId: 7 }],
        ['RecordPayout', { passId: 7, fromSeq: 0, payoutSeqEnd: 25 }],
        ['MarkProcessing', range(7, 15, 25)],
        ['MarkProcessing', range(7, 5, 15)],
        ['MarkProcessing', range(7, 0, 5)],
        ['QuarantinePayouts', range(7, 0, 3)],
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

describe('a pass over a large list', () => {
  it('records a window of chunks ahead of marking them, oldest first, so marking starts early', async () => {
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: pass === 1 ? 130 : 0 }),
      RecordPayout: ({ fromSeq = 0, payoutSeqEnd }: { fromSeq?: number; payoutSeqEnd: number }) => ({
        inserted: payoutSeqEnd - fromSeq,
      }),
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.waitFor(() => sync.callsOf('MarkProcessing').length === 13);
      const steps = sync.calls
        .filter((call) => call.activity !== 'FetchTransactions')
        .map((call) =>
          call.activity === 'RecordPayout'
            ? `record ${(call.input as { fromSeq: number }).fromSeq}-${(call.input as { payoutSeqEnd: number }).payoutSeqEnd}`
            : `mark ${(call.input as PassRange).fromSeq}`,
        );
      expect(steps).toEqual([
        'record 80-130',
        ...[120, 110, 100, 90, 80].map((seq) => `mark ${seq}`),
        'record 30-80',
        ...[70, 60, 50, 40, 30].map((seq) => `mark ${seq}`),
        'record 0-30',
        ...[20, 10, 0].map((seq) => `mark ${seq}`),
      ]);
      expect(await sync.status()).toMatchObject({ recorded: 130 });
    });
  });

  it('lists again at once after a pass whose list was cut at a cap', async () => {
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => ({
        ...planOf(pass, { payouts: pass <= 2 ? 10 : 0 }),
        ...(pass <= 2 ? { listCut: true } : {}),
      }),
      RecordPayout: () => ({ inserted: 10 }),
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.waitFor(() => sync.callsOf('FetchTransactions').length === 3);
      // No signal and no reconciliation timer in between: the cut lists asked for the passes.
      expect(sync.callsOf('FetchTransactions').map((call) => call.input)).toEqual([
        { pass: 1 },
        { pass: 2 },
        { pass: 3 },
      ]);
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
      await sync.advance(30_000);
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

describe('continue-as-new', () => {
  it(`continues as new in the middle of a pass once signals grow its history to ${MAX_HISTORY_EVENTS} events; the new run finishes that pass, then runs the one they asked for`, async () => {
    const held = gate();
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 30, rejected: 2 }),
      // The pass's first chunk is held while a webhook flood lands.
      MarkProcessing: async ({ passId, fromSeq, toSeq }: PassRange) => {
        if (passId === 1 && toSeq === 30) await held.wait;
        return markResult(toSeq - fromSeq);
      },
    };
    await layer.withSync({ stubs }, async (sync) => {
      try {
        await sync.waitFor(() => sync.callsOf('MarkProcessing').length === 1);
        for (let sent = 0; sent < MAX_HISTORY_EVENTS; sent += 100) {
          await Promise.all(Array.from({ length: 100 }, () => sync.signal()));
        }
      } finally {
        held.open();
      }
      await sync.waitFor(() => sync.callsOf('QuarantinePayouts').length === 2);
      await sync.advance(1_000);

      const [first, second, ...more] = byRun(sync.calls);
      expect(more).toEqual([]);
      expect(first![0]!.runId).toBe(sync.firstRunId);
      expect(steps(first!)).toEqual([
        ['FetchTransactions', { pass: 1 }],
        ['RecordPayout', { passId: 1, fromSeq: 0, payoutSeqEnd: 30 }],
        ['MarkProcessing', range(1, 20, 30)],
      ]);
      // The open pass goes on where it stopped (no new list), then the pass the signals asked for.
      expect(steps(second!)).toEqual([
        ['MarkProcessing', range(1, 10, 20)],
        ['MarkProcessing', range(1, 0, 10)],
        ['QuarantinePayouts', range(1, 0, 2)],
        ['FetchTransactions', { pass: 2 }],
        ['RecordPayout', { passId: 2, fromSeq: 0, payoutSeqEnd: 30 }],
        ['MarkProcessing', range(2, 20, 30)],
        ['MarkProcessing', range(2, 10, 20)],
        ['MarkProcessing', range(2, 0, 10)],
        ['QuarantinePayouts', range(2, 0, 2)],
      ]);
      expect(await sync.continuedWith(sync.firstRunId)).toEqual({
        reconcileIntervalMs: 60_000,
        counters: { passes: 0, recorded: 30, marked: 10, rejected: 0, signals: MAX_HISTORY_EVENTS },
        pending: true,
        openPass: {
          plan: planOf(1, { payouts: 30, rejected: 2 }),
          payoutChunksDone: 1,
          rejectedChunksDone: 0,
          progressed: true,
          retryLater: 0,
          recordedFromSeq: 0,
        },
      } satisfies SyncInput);
      expect(await sync.status()).toMatchObject({
        passes: 2,
        runPasses: 2,
        recorded: 60,
        marked: 60,
        rejected: 4,
        signals: MAX_HISTORY_EVENTS,
        pending: false,
      });
    });
  });

  it('does not lose a signal that lands while the run continues as new: the next run runs a pass for it at once', async () => {
    const decided: SyncInput[] = [];
    await layer.withSync(
      {
        input: { reconcileIntervalMs: 600_000 },
        // The first decision to continue as new is in flight when the signal lands.
        onContinueAsNew: async (input, sync) => {
          decided.push(input);
          if (decided.length === 1) await sync.signal();
        },
      },
      async (sync) => {
        await sync.settings({ reconcileIntervalMs: 60_000 }); // carried into the next run
        // Reconciliation passes, an empty list each: the history grows past its bound within these.
        await sync.advance(MAX_PASSES_PER_RUN * 60_000);

        const [first, second] = byRun(sync.callsOf('FetchTransactions'));
        expect(first!.length).toBeLessThan(MAX_PASSES_PER_RUN); // the history bound ended the run
        // The server refused the run's first decision because of the signal, and the run decided
        // again, with it. (The first decision's `pending` depends on where the history bound
        // falls: after a pass it is false; right after a reconciliation timer fired, before the
        // pass it would run, it is already true.)
        expect(decided).toHaveLength(2);
        expect(decided[0]).toMatchObject({
          reconcileIntervalMs: 60_000,
          counters: expect.objectContaining({ signals: 0 }),
        });
        expect(decided[1]).toMatchObject({
          reconcileIntervalMs: 60_000,
          counters: expect.objectContaining({ signals: 1 }),
          pending: true,
        });
        expect(await sync.continuedWith(sync.firstRunId)).toEqual(decided[1]);
        // Not at the next reconciliation, a minute later: at once.
        expect(second![0]!.atMs - first!.at(-1)!.atMs).toBeLessThan(30_000);
        expect(await sync.status()).toMatchObject({
          passes: first!.length + second!.length,
          runPasses: second!.length,
          signals: 1,
          reconcileIntervalMs: 60_000,
        });
      },
    );
  });
});

describe('MarkProcessing leaving calls to the next pass', () => {
  it("runs another pass at once while the pass's last chunk counts calls left; the earlier chunks' counts give way to it", async () => {
    // Per pass: what each of its three chunks leaves, oldest first; the last one sends again
    // (resent) what the earlier ones left and counts what the whole pass still leaves.
    const answers: Record<number, [Partial<MarkResult>, Partial<MarkResult>, Partial<MarkResult>]> = {
      1: [
        { marked: 6, retryLater: 4 },
        { marked: 8, retryLater: 2 },
        { marked: 16, resent: 6 },
      ],
      2: [{ marked: 6, retryLater: 4 }, {}, { marked: 12, resent: 4, retryLater: 2 }],
      // An attempt of the earlier version (no resent): the pass adds up its chunks' counts.
      3: [{ marked: 7, retryLater: 3 }, {}, { resent: undefined }],
      4: [{}, {}, { marked: 8, refused: 2, refusedSample: [{ expenzyId: 'p', reason: '[]' }] }],
    };
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 30 }),
      MarkProcessing: ({ passId, fromSeq, toSeq }: PassRange) =>
        markResult(toSeq - fromSeq, answers[passId]?.[2 - fromSeq / 10]),
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(30_000);
      expect(sync.callsOf('FetchTransactions')).toHaveLength(1); // pass 1 left nothing: no pass before the timer
      await sync.signal();
      await sync.advance(30_000);

      const fetches = sync.callsOf('FetchTransactions');
      // Pass 2 (the signal's) left 2, pass 3 left 3 (its chunks' sum): each followed at once.
      expect(fetches.map((call) => call.input)).toEqual([{ pass: 1 }, { pass: 2 }, { pass: 3 }, { pass: 4 }]);
      const [, afterTwo, afterThree] = gaps(fetches);
      expect(afterTwo).toBeLessThan(10_000); // not at the next reconciliation (a minute)
      expect(afterThree).toBeLessThan(10_000);
      expect(passesOf(sync.callsOf('MarkProcessing'))).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
      expect(await sync.status()).toMatchObject({
        passes: 4,
        recorded: 120,
        marked: 6 + 8 + 16 + (6 + 10 + 12) + (7 + 10 + 10) + (10 + 10 + 8),
      });
    });
  });

  it('ends the marking of a pass whose fence moved, still quarantines, and runs the next pass at once', async () => {
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 30, rejected: 2 }),
      MarkProcessing: ({ passId, fromSeq, toSeq }: PassRange) =>
        markResult(toSeq - fromSeq, passId === 1 ? { marked: 0, fenceMoved: true } : {}),
      QuarantinePayouts: ({ passId }: PassRange) => ({
        quarantined: passId === 1 ? 0 : 2,
        setToError: passId === 1 ? 0 : 1,
        unsettled: 0,
        retryLater: passId === 2 ? 1 : 0, // left to the next pass as well
        fenceMoved: passId === 1,
      }),
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(30_000);
      expect(
        sync.calls.map((call) => [call.activity, (call.input as PassRange).passId ?? call.input]),
      ).toEqual([
        ['FetchTransactions', { pass: 1 }],
        ['RecordPayout', 1],
        ['MarkProcessing', 1], // the fence moved: no further chunk of pass 1 is sent
        ['QuarantinePayouts', 1],
        ['FetchTransactions', { pass: 2 }], // pass 1 recorded payouts (progress): the next pass at once
        ['RecordPayout', 2],
        ['MarkProcessing', 2],
        ['MarkProcessing', 2],
        ['MarkProcessing', 2],
        ['QuarantinePayouts', 2],
        ['FetchTransactions', { pass: 3 }], // QuarantinePayouts left one to the next pass
        ['RecordPayout', 3],
        ['MarkProcessing', 3],
        ['MarkProcessing', 3],
        ['MarkProcessing', 3],
        ['QuarantinePayouts', 3],
      ]);
      expect(await sync.status()).toMatchObject({ passes: 3, marked: 60, rejected: 4 });
    });
  });

  it('leaves a chunk whose MarkProcessing fails through its 8 attempts, and the rest of its pass, to the next pass', async () => {
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 20, rejected: 2 }),
      MarkProcessing: ({ passId, fromSeq, toSeq }: PassRange) => {
        if (passId === 1) throw transientFailure('fence lost');
        return markResult(toSeq - fromSeq);
      },
    };
    await layer.withSync({ stubs }, async (sync) => {
      await sync.advance(30_000);
      const marks = sync.callsOf('MarkProcessing');
      const firstPass = marks.filter((call) => call.input.passId === 1);
      expect(firstPass.map((call) => call.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(new Set(firstPass.map((call) => call.input.fromSeq))).toEqual(new Set([10])); // its oldest chunk only
      // markOptions' backoff, skipped by the server: 100 ms doubling (capped at 15 s).
      gaps(firstPass).forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i));
      expect(sync.calls.map((call) => call.activity).filter((name) => name !== 'MarkProcessing')).toEqual([
        'FetchTransactions',
        'RecordPayout',
        'QuarantinePayouts', // the malformed ones are still quarantined
        'FetchTransactions', // it recorded payouts (progress): the next pass at once
        'RecordPayout',
        'QuarantinePayouts',
      ]);
      expect(marks.filter((call) => call.input.passId === 2).map((call) => call.input.fromSeq)).toEqual([
        10, 0,
      ]);
      expect(await sync.status()).toMatchObject({ passes: 2, marked: 20 });
    });
  });
});

describe('a pass none of whose calls got through', () => {
  it('makes the next pass wait 200 ms, doubling up to 30 s, until a pass gets one through', async () => {
    const failing = 10;
    const stubs = {
      FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 10 }),
      RecordPayout: () => ({ inserted: 0, refused: 0 }), // recorded by an earlier pass already
      MarkProcessing: async ({ passId }: PassRange, _call: ActivityCall, sync: SyncRun) => {
        if (passId > failing) return markResult(10);
        await sync.signal(); // webhooks keep asking for passes
        return markResult(10, { marked: 0, retryLater: 10 });
      },
    };
    await layer.withSync({ stubs, input: { reconcileIntervalMs: 600_000 } }, async (sync) => {
      await sync.advance(120_000);
      const fetches = sync.callsOf('FetchTransactions');
      expect(fetches).toHaveLength(failing + 1); // then the backlog is through, and no signal is pending
      const expected = [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000];
      gaps(fetches).forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(expected[i]!);
        expect(gap).toBeLessThan(expected[i]! + 1_000);
      });
      expect(await sync.status()).toMatchObject({ passes: failing + 1, marked: 10, pending: false });
    });
  });
});
