import { describe, expect, it } from 'vitest';
import { expectClean, minutes, useChaosStack } from './support/chaos-suite.js';

// Chaos scenarios at small sizes, on a stack of this file's own (support/chaos-suite.ts).
const { run } = useChaosStack();

describe('chaos: the sync from outside: a stray sync, terminate, reset; a refused batch of the largest size', () => {
  it(
    '11. a second expenzySync under another workflow id: nobody sends twice, the stray run ends',
    async () => {
      const result = await run('second-workflow');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toContain('stray-sync');
    },
    minutes(4),
  );

  it(
    '12. terminate while MarkProcessing sends, two workers, then a webhook',
    async () => {
      const result = await run('terminate-mid-send');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toEqual(
        expect.arrayContaining(['second-worker', 'sync-terminate']),
      );
    },
    minutes(4),
  );

  it(
    '13. reset to the last workflow task while MarkProcessing sends',
    async () => {
      const result = await run('reset-last-task');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toContain('sync-reset');
    },
    minutes(4),
  );

  it(
    '16. a refused batch of the largest allowed size, then the refusal lifted',
    async () => {
      const result = await run('refused-batch');
      expectClean(result);
      expect(result.payouts).toBe(10_000);
    },
    minutes(6),
  );
});
