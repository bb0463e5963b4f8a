import { describe, expect, it } from 'vitest';
import { expectClean, minutes, useChaosStack } from './support/chaos-suite.js';

// Chaos scenarios at small sizes, on a stack of this file's own (support/chaos-suite.ts).
const { run } = useChaosStack();

describe('chaos: attempts: one timed out with its updates in flight, one stalled past its heartbeat timeout', () => {
  it(
    '14. a MarkProcessing attempt times out on a live worker with its updates in flight',
    async () => {
      const result = await run('mark-timeout-live-worker');
      expectClean(result);
    },
    minutes(4),
  );

  it(
    '15. a FetchTransactions attempt stalled (SIGSTOP) around an update that failed',
    async () => {
      const result = await run('stalled-fetch');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toContain('worker-sigstop');
    },
    minutes(6),
  );
});
