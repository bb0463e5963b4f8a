import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_HISTORY_EVENTS, MAX_PASSES_PER_RUN } from '../../src/workflows/expenzy-sync.js';
import type { SyncInput } from '../../src/workflows/sync-contract.js';
import {
  gate,
  markResult,
  planOf,
  startWorkflowLayer,
  type ActivityCall,
  type WorkflowLayer,
} from './harness.js';

/** Each run's calls, in the order the runs started. */
const byRun = (calls: ActivityCall[]) => {
  const runs = new Map<string, ActivityCall[]>();
  for (const call of calls) runs.set(call.runId, [...(runs.get(call.runId) ?? []), call]);
  return [...runs.values()];
};
const steps = (calls: ActivityCall[]) => calls.map((call) => [call.activity, call.input]);
const range = (passId: number, fromSeq: number, toSeq: number) => ({ passId, epoch: passId, fromSeq, toSeq });

let layer: WorkflowLayer;
beforeAll(async () => {
  layer = await startWorkflowLayer();
});
afterAll(async () => layer?.teardown());

it(`continues as new in the middle of a pass once signals grow its history to ${MAX_HISTORY_EVENTS} events; the new run finishes that pass, then runs the one they asked for`, async () => {
  const held = gate();
  const stubs = {
    FetchTransactions: ({ pass }: { pass: number }) => planOf(pass, { payouts: 30, rejected: 2 }),
    // The pass's first chunk is held while a webhook flood lands.
    MarkProcessing: async ({
      passId,
      fromSeq,
      toSeq,
    }: {
      passId: number;
      fromSeq: number;
      toSeq: number;
    }) => {
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
      ['RecordPayout', { passId: 1, payoutSeqEnd: 30 }],
      ['MarkProcessing', range(1, 20, 30)],
    ]);
    // The open pass goes on where it stopped (no new list), then the pass the signals asked for.
    expect(steps(second!)).toEqual([
      ['MarkProcessing', range(1, 10, 20)],
      ['MarkProcessing', range(1, 0, 10)],
      ['QuarantinePayouts', range(1, 0, 2)],
      ['FetchTransactions', { pass: 2 }],
      ['RecordPayout', { passId: 2, payoutSeqEnd: 30 }],
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
      // Reconciliation passes, an empty list each, until the history is long enough.
      while (decided.length === 0) await sync.advance(60_000);
      await sync.waitFor((calls) => calls.some((call) => call.runId !== sync.firstRunId));
      await sync.advance(1_000);

      const [first, second] = byRun(sync.callsOf('FetchTransactions'));
      expect(first!.length).toBeLessThan(MAX_PASSES_PER_RUN); // the history bound ended the run
      // The run had decided with nothing pending; the server refused that decision because of the
      // signal, and the run decided again, with it.
      expect(decided).toEqual([
        { reconcileIntervalMs: 60_000, counters: expect.objectContaining({ signals: 0 }), pending: false },
        { reconcileIntervalMs: 60_000, counters: expect.objectContaining({ signals: 1 }), pending: true },
      ]);
      expect(await sync.continuedWith(sync.firstRunId)).toEqual(decided[1]);
      // Not at the next reconciliation, a minute later: at once.
      expect(second![0]!.atMs - first!.at(-1)!.atMs).toBeLessThan(30_000);
      expect(await sync.status()).toMatchObject({
        passes: first!.length + 1,
        runPasses: 1,
        signals: 1,
        reconcileIntervalMs: 60_000,
      });
    },
  );
});
