import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { producePayouts, ProducerError, type ProducerHooks } from '../../expenzy/producer.js';
import { defaultProducerOptions, type ProducerOptions } from '../../expenzy/producer-options.js';
import { freePort } from '../../tools/stack/ports.js';
import { startFakes, type Fakes } from './producer-fakes.js';

let fakes: Fakes;
beforeEach(async () => {
  fakes = await startFakes();
});
afterEach(async () => fakes.close());

const run = (options: Partial<ProducerOptions>, hooks?: ProducerHooks) =>
  producePayouts(
    {
      ...defaultProducerOptions,
      sleepBetweenPayouts: 0,
      expenzyBaseUrl: fakes.expenzyBaseUrl,
      holviBaseUrl: fakes.holviBaseUrl,
      ...options,
    },
    hooks,
  );

const warnings: unknown[] = [];
const logger = { warn: (details: unknown) => void warnings.push(details), debug: () => undefined };
beforeEach(() => {
  warnings.length = 0;
});

describe('producePayouts', () => {
  it('creates each payout before its webhook and sums up the run', async () => {
    const summary = await run({ attempts: 5, concurrency: 2 });

    expect(summary).toMatchObject({
      attempts: 5,
      payoutsCreated: 5,
      webhooksSent: 5,
      webhooksFailed: 0,
      webhooksDropped: 0,
      aborted: false,
    });
    expect(summary.creationRate).toBeGreaterThan(0);
    expect(fakes.timeline.created).toHaveLength(5);
    fakes.timeline.webhooks.forEach((webhook, index) => expect(webhook.createdBefore).toBeGreaterThan(index));
  });

  // The fakes below answer only once something else has happened, never after a delay: a
  // producer that breaks the rule deadlocks, and the test fails on its timeout.
  it('does not wait for a webhook before creating the next payout', { timeout: 10_000 }, async () => {
    let fourthCreated!: () => void;
    const gate = new Promise<void>((resolve) => (fourthCreated = resolve));
    fakes.expenzyAnswer = (attempt) => {
      if (attempt === 4) fourthCreated();
      return 200;
    };
    fakes.holviAnswer = async (hit) => {
      if (hit === 1) await gate; // the first webhook is answered only once all 4 payouts exist
      return 200;
    };
    await run({ attempts: 4, concurrency: 1 });

    expect(fakes.timeline.created[3]!.seq).toBeLessThan(fakes.timeline.webhooks[0]!.answeredSeq!);
    expect(fakes.timeline.maxInFlight).toBe(1);
  });

  it('keeps at most `concurrency` webhooks in flight', { timeout: 10_000 }, async () => {
    // Webhooks are held in groups of 3 (the last ones excepted), answered together once every
    // payout exists: a producer sending fewer at once never fills a group; one sending more has
    // had the whole creation phase to reach a 4th.
    let creationDone = false;
    const held: (() => void)[] = [];
    const answerFull = () => {
      const last = fakes.timeline.webhooks.length === 12;
      if (creationDone && (held.length >= 3 || last)) for (const answer of held.splice(0)) answer();
    };
    fakes.holviAnswer = () =>
      new Promise<number>((resolve) => {
        held.push(() => resolve(200));
        answerFull();
      });
    const summary = await run(
      { attempts: 12, concurrency: 3 },
      {
        onProgress: (progress) => {
          if (progress.payoutsCreated < 12 || creationDone) return;
          creationDone = true;
          answerFull();
        },
      },
    );
    expect(fakes.timeline.maxInFlight).toBe(3);
    expect(summary.webhooksSent).toBe(12);
  });

  it('counts failed webhooks and does not retry them', async () => {
    fakes.holviAnswer = (hit) => (hit % 2 === 0 ? 503 : 200);
    const summary = await run({ attempts: 6, concurrency: 2 }, { logger });

    expect(summary).toMatchObject({ webhooksSent: 3, webhooksFailed: 3 });
    expect(fakes.timeline.webhooks).toHaveLength(6);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatchObject({ failure: 'HTTP 503' });
  });

  it('counts a refused connection and a timeout as failures', async () => {
    const refused = await run(
      { attempts: 2, holviBaseUrl: `http://127.0.0.1:${await freePort()}` },
      { logger },
    );
    expect(refused).toMatchObject({ payoutsCreated: 2, webhooksSent: 0, webhooksFailed: 2 });
    expect(warnings[0]).toMatchObject({ failure: expect.stringContaining('ECONNREFUSED') });

    let answer!: () => void;
    fakes.holviAnswer = () => new Promise<number>((resolve) => (answer = () => resolve(200)));
    const slow = await run({ attempts: 1, webhookTimeoutMs: 50 }); // answered only afterwards
    answer();
    expect(slow).toMatchObject({ webhooksSent: 0, webhooksFailed: 1 });
    expect(fakes.timeline.webhooks[0]!.answeredSeq).toBeUndefined();
  });

  it('drops the chosen share of webhooks on purpose', async () => {
    const rolls = [0.1, 0.9, 0.4, 0.6];
    const summary = await run({ attempts: 4, webhookDropRate: 0.5 }, { random: () => rolls.shift()! });
    expect(summary).toMatchObject({
      payoutsCreated: 4,
      webhooksSent: 2,
      webhooksDropped: 2,
      webhooksFailed: 0,
    });
    expect(fakes.timeline.webhooks).toHaveLength(2);

    const all = await run({ attempts: 3, webhookDropRate: 1 });
    expect(all).toMatchObject({ payoutsCreated: 3, webhooksSent: 0, webhooksDropped: 3 });
    expect(fakes.timeline.webhooks).toHaveLength(2);
  });

  it('sleeps between two creations, and times the run by its clock', async () => {
    let now = 1_000; // a clock that moves only when the producer sleeps
    const sleeps: { ms: number; seq: number }[] = [];
    const summary = await run(
      { attempts: 4, sleepBetweenPayouts: 0.05 },
      {
        clock: () => now,
        sleep: async (ms) => {
          sleeps.push({ ms, seq: fakes.mark() });
          now += ms;
        },
      },
    );
    const created = fakes.timeline.created.map((payout) => payout.seq);
    expect(sleeps.map((pause) => pause.ms)).toEqual([50, 50, 50]);
    sleeps.forEach((pause, i) => {
      expect(pause.seq).toBeGreaterThan(created[i]!);
      expect(pause.seq).toBeLessThan(created[i + 1]!);
    });
    expect(summary.elapsedMs).toBe(150);
    expect(summary.creationRate).toBeCloseTo(4 / 0.15, 9);
  });

  it('stops creating when aborted, still sending the webhooks of what it created', async () => {
    const stop = new AbortController();
    const summary = await run(
      { attempts: 100, sleepBetweenPayouts: 0.01 },
      { signal: stop.signal, onProgress: (p) => p.payoutsCreated === 2 && stop.abort() },
    );
    expect(summary).toMatchObject({ payoutsCreated: 2, webhooksSent: 2, aborted: true });
  });

  it('stops with the partial summary when a payout cannot be created', async () => {
    fakes.expenzyAnswer = (attempt) => (attempt === 3 ? 500 : 200);
    const failure = await run({ attempts: 5 }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ProducerError);
    expect((failure as ProducerError).message).toMatch(/answered 500/);
    expect((failure as ProducerError).summary).toMatchObject({ payoutsCreated: 2, webhooksSent: 2 });
  });
});
