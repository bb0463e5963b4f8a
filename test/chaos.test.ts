import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRunner, type ScenarioResult } from '../tools/chaos/runner.js';
import { scenarioNamed } from '../tools/chaos/scenarios/index.js';
import { formatDetails, formatTable } from '../tools/chaos/table.js';

// `make chaos` at small sizes: the same runner and scenarios, on an isolated copy of the real
// stack (scripts/stack.sh with a temporary STACK_DIR and free ports, its own PostgreSQL cluster
// and Temporal database), so neither a `make up` nor the other test files are disturbed.
// Each scenario resets the stack, injects its faults while payouts are made, waits (bounded) for
// the report to be consistent and checks its own figures.

let runner: ChaosRunner | undefined;
const results: ScenarioResult[] = [];
const log: string[] = [];

beforeAll(async () => {
  runner = await ChaosRunner.start({ scale: 'small', log: (line) => log.push(line) });
}, 300_000);

afterAll(async () => {
  const failed = results.some((result) => !result.passed) || results.length === 0;
  if (results.length) console.log(formatTable(results));
  if (failed) console.error(`chaos log:\n${log.slice(-200).join('\n')}`);
  // On a failure the services' logs stay in the STACK_DIR (printed in the log above).
  await runner?.close({ keepDir: failed });
}, 180_000);

async function run(name: string): Promise<ScenarioResult> {
  if (!runner) throw new Error('the chaos stack did not start');
  const result = await runner.run(scenarioNamed(name));
  results.push(result);
  return result;
}

/** Converged, report consistent, nothing duplicated, missing or mismatched, every check passed. */
function expectClean(result: ScenarioResult, { repeatedUpdatesAllowed = false } = {}) {
  const details = formatDetails([result]);
  expect(result.error, details).toBeUndefined();
  expect(
    result.checks.filter((check) => !check.ok),
    details,
  ).toEqual([]);
  expect(result.converged, details).toBe(true);
  expect(result.report?.consistent, details).toBe(true);
  expect([result.duplicates, result.missing, result.mismatches], details).toEqual([0, 0, 0]);
  if (!repeatedUpdatesAllowed) expect(result.maxUpdateCount, details).toBe(1);
}

const minutes = (n: number) => n * 60_000;

describe('chaos scenarios (small sizes)', () => {
  it(
    '1. partner failure rate 0.5 on updates, 0.2 on the list',
    async () => {
      const result = await run('partner-failures');
      expectClean(result);
      expect(result.payouts).toBe(200);
      expect(result.figures.partnerUnavailable).toBeGreaterThan(0);
    },
    minutes(4),
  );

  it(
    '2. fail after commit: updates beyond one are counted',
    async () => {
      const result = await run('fail-after-commit');
      expectClean(result, { repeatedUpdatesAllowed: true });
      expect(result.updatesBeyondOne).toBe(result.report?.updates.beyondOne);
      expect(result.figures.partnerUnavailable).toBeGreaterThan(0); // answers lost after the commit
    },
    minutes(4),
  );

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
    '6. partner outage, then 1–3 s latency',
    async () => {
      const result = await run('partner-outage-latency');
      expectClean(result);
      expect(result.figures.partner503s).toBeGreaterThan(0);
    },
    minutes(5),
  );

  it(
    '7. lost webhooks are found by the reconciliation pass',
    async () => {
      const result = await run('lost-webhooks');
      expectClean(result);
      expect(result.figures.webhooksSent).toBe(0);
      expect(result.figures.webhooksFailed).toBe(200);
    },
    minutes(4),
  );

  it(
    '8. webhook flood: fast answers, few signals, convergence',
    async () => {
      const result = await run('webhook-flood');
      expectClean(result);
      expect(result.figures.floodRequests).toBe(2_000);
      expect(Number(result.figures.signalsSent) * 10).toBeLessThan(Number(result.figures.webhooks));
    },
    minutes(4),
  );

  it(
    '9. malformed payouts of every kind are quarantined, the rest recorded',
    async () => {
      const result = await run('malformed-payouts');
      expectClean(result);
      expect(result.report?.quarantinedUnsettled.count).toBeGreaterThan(0); // bad_id: WARN, not FAIL
      expect(result.report?.checks.find((check) => check.key === 'quarantinedUnsettled')?.status).toBe(
        'WARN',
      );
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
