import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarkResult, PassRange } from '../../src/workflows/sync-contract.js';
import {
  markResult,
  planOf,
  startWorkflowLayer,
  transientFailure,
  type ActivityCall,
  type WorkflowLayer,
} from './harness.js';

/** Server time between consecutive calls. */
const gaps = (calls: ActivityCall[]) => calls.slice(1).map((call, i) => call.atMs - calls[i]!.atMs);
const passesOf = (calls: ActivityCall[]) => calls.map((call) => (call.input as PassRange).passId);

let layer: WorkflowLayer;
beforeAll(async () => {
  layer = await startWorkflowLayer();
});
afterAll(async () => layer?.teardown());

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
      expect(afterTwo).toBeLessThan(1_000);
      expect(afterThree).toBeLessThan(1_000);
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
      MarkProcessing: async (
        { passId }: PassRange,
        _call: ActivityCall,
        sync: { signal(): Promise<void> },
      ) => {
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
