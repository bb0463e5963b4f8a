import { describe, expect, it } from 'vitest';
import { expectClean, minutes, useChaosStack } from './support/chaos-suite.js';

// Chaos scenarios at small sizes, on a stack of this file's own (support/chaos-suite.ts).
const { run } = useChaosStack();

describe('chaos: the partner: failures, lost answers, outage and latency, lost webhooks, a flood, malformed payouts', () => {
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
});
