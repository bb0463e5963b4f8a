import { describe, expect, it } from 'vitest';
import { expectClean, minutes, useChaosStack } from './support/chaos-suite.js';

// Chaos scenarios at small sizes, on a stack of this file's own (support/chaos-suite.ts).
const { run } = useChaosStack();

describe('chaos: processes: worker kills, Temporal and PostgreSQL restarts, everything at once', () => {
  it(
    '3. worker SIGKILLed during passes, restarted each time',
    async () => {
      const result = await run('worker-kills');
      expectClean(result);
      expect(result.faults.filter((fault) => fault.kind === 'worker-sigkill')).toHaveLength(2);
    },
    minutes(5),
  );

  it(
    '4. Temporal server restarted mid-run',
    async () => {
      const result = await run('temporal-restart');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toContain('temporal-restart');
    },
    minutes(4),
  );

  it(
    '5. PostgreSQL restarted mid-run; the services recover without a restart',
    async () => {
      const result = await run('postgres-restart');
      expectClean(result);
      expect(result.faults.map((fault) => fault.kind)).toContain('postgres-restart');
      expect(result.checks.find((check) => check.name === 'worker process not restarted')?.ok).toBe(true);
    },
    minutes(4),
  );

  it(
    '10. everything at once',
    async () => {
      const result = await run('everything');
      expectClean(result, { repeatedUpdatesAllowed: true });
      expect(result.payouts).toBe(300);
      expect(result.faults.map((fault) => fault.kind).sort()).toEqual([
        'api-sigkill',
        'partner-knobs',
        'postgres-restart',
        'temporal-restart',
        'worker-sigkill',
        'worker-sigkill',
      ]);
    },
    minutes(6),
  );

  // Issue 10's exactly-once windows: each fails wherever its window is open (a payout updated
  // twice, or one left `notifying` for good), and passes once the pass is fenced.
});
