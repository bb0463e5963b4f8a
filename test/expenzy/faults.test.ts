import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  countPayouts,
  insertPayout,
  listPayouts,
  storedPayout,
  updatePayout,
  useExpenzy,
  type Simulator,
} from './harness.js';

const expenzy = useExpenzy();
const unknownId = '3f2b8c1e-9a4d-4e6f-8b10-2c3d4e5f6a7b';

async function timed<T>(call: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

describe('failureRate', () => {
  it('at 1, every update answers 500 before anything is applied', async () => {
    const { app } = await expenzy.start({ failureRate: 1 });
    const id = await insertPayout(expenzy.pool);

    const response = await updatePayout(app, id, 'processing');

    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state: 'notifying', state_update_count: 0 });
  });

  it('touches neither the list nor the count', async () => {
    const { app } = await expenzy.start({ failureRate: 1 });
    await insertPayout(expenzy.pool);
    expect((await listPayouts(app)).statusCode).toBe(200);
    expect((await countPayouts(app)).statusCode).toBe(200);
  });

  it('with the same seed fails the same calls', async () => {
    const outcomes = async (seed: number) => {
      const { app } = await expenzy.start({ failureRate: 0.5 }, { seed });
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++)
        statuses.push((await updatePayout(app, unknownId, 'processing')).statusCode);
      return statuses;
    };

    const first = await outcomes(2026);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await outcomes(2026)).toEqual(first);
    expect(await outcomes(7)).not.toEqual(first);
  });
});

describe('failAfterCommitRate', () => {
  it('at 1, the update is applied and counted, then the answer is a 500', async () => {
    const { app } = await expenzy.start({ failAfterCommitRate: 1 });
    const id = await insertPayout(expenzy.pool);

    expect((await updatePayout(app, id, 'processing')).statusCode).toBe(500);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({
      state: 'processing',
      state_update_count: 1,
    });

    // The caller's retry is a second update, which the partner's count reveals.
    expect((await updatePayout(app, id, 'processing')).statusCode).toBe(500);
    expect((await countPayouts(app)).json()).toEqual({
      total_num_transactions: 1,
      processing_num_transactions: 1,
      max_update_count: 2,
    });
  });

  it('does not fire when nothing was applied', async () => {
    const { app } = await expenzy.start({ failAfterCommitRate: 1 });
    const response = await updatePayout(app, unknownId, 'processing');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });
});

describe('listFailureRate', () => {
  it('at 1, the list answers 500 while updates and the count work', async () => {
    const { app } = await expenzy.start({ listFailureRate: 1 });
    const id = await insertPayout(expenzy.pool);

    const list = await listPayouts(app);
    expect(list.statusCode).toBe(500);
    expect(list.body).toContain('Internal Server Error');
    expect((await updatePayout(app, id, 'processing')).statusCode).toBe(200);
    expect((await countPayouts(app)).statusCode).toBe(200);
  });
});

describe('latencyMs', () => {
  it('delays every public API call, but neither /healthz nor the admin routes', async () => {
    const { app } = await expenzy.start({ latencyMs: '150' });
    const id = await insertPayout(expenzy.pool);

    const [list, update, count] = await Promise.all([
      timed(() => listPayouts(app)),
      timed(() => updatePayout(app, id, 'processing')),
      timed(() => countPayouts(app)),
    ]);
    expect(Math.min(list, update, count)).toBeGreaterThanOrEqual(145);
    expect(await timed(() => app.inject('/healthz'))).toBeLessThan(100);
    expect(await timed(() => app.inject('/admin/knobs'))).toBeLessThan(100);
  });

  it('draws each delay uniformly from a range', async () => {
    const { app, knobs } = await expenzy.start({ latencyMs: '40-80' });
    const delays = Array.from({ length: 200 }, () => knobs.latency());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...delays)).toBeLessThanOrEqual(80);
    expect(new Set(delays).size).toBeGreaterThan(20);

    const elapsed = await timed(() => countPayouts(app));
    expect(elapsed).toBeGreaterThanOrEqual(38);
    expect(elapsed).toBeLessThan(400);
  });
});

describe('listLatencyMs', () => {
  it('delays the list call alone, instead of latencyMs', async () => {
    const { app } = await expenzy.start({ latencyMs: '300', listLatencyMs: '0' });
    const id = await insertPayout(expenzy.pool);

    expect(await timed(() => listPayouts(app))).toBeLessThan(200);
    expect(await timed(() => updatePayout(app, id, 'processing'))).toBeGreaterThanOrEqual(295);
  });

  it('when null, the list waits latencyMs like every other call', async () => {
    const { app } = await expenzy.start({ latencyMs: '150', listLatencyMs: null });
    expect(await timed(() => listPayouts(app))).toBeGreaterThanOrEqual(145);
  });
});

describe('refuseUpdates', () => {
  it("'empty' answers [] to every update and applies nothing", async () => {
    const { app } = await expenzy.start({ refuseUpdates: 'empty' });
    const id = await insertPayout(expenzy.pool);

    const response = await updatePayout(app, id, 'processing');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state: 'notifying', state_update_count: 0 });
  });

  it("'404' answers a JSON error naming the payout and applies nothing; the list still works", async () => {
    const { app } = await expenzy.start({ refuseUpdates: '404' });
    const id = await insertPayout(expenzy.pool);

    const response = await updatePayout(app, id, 'processing');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: expect.stringContaining(id) });
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state: 'notifying', state_update_count: 0 });
    expect((await listPayouts(app)).json()).toHaveLength(1);
  });
});

describe('outage', () => {
  async function expectDown({ app }: Simulator, id: string) {
    for (const response of [
      await listPayouts(app),
      await updatePayout(app, id, 'processing'),
      await countPayouts(app),
    ]) {
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  }

  it('answers 503 on every public call until it ends, then recovers; /healthz stays up', async () => {
    let now = 1_000_000;
    const simulator = await expenzy.start({}, { outageSeconds: 30, now: () => now });
    const id = await insertPayout(expenzy.pool);

    await expectDown(simulator, id);
    expect((await simulator.app.inject('/healthz')).statusCode).toBe(200);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state_update_count: 0 });

    now += 29_999;
    await expectDown(simulator, id);
    now += 1;
    expect((await updatePayout(simulator.app, id, 'processing')).statusCode).toBe(200);
    expect((await listPayouts(simulator.app)).statusCode).toBe(200);
  });

  it('can be started and ended through the admin route', async () => {
    const simulator = await expenzy.start();
    const id = await insertPayout(expenzy.pool);
    const outage = (seconds: number) =>
      simulator.app.inject({ method: 'POST', url: '/admin/outage', payload: { seconds } });

    expect((await outage(0.15)).json()).toMatchObject({ outageSecondsLeft: expect.any(Number) });
    await expectDown(simulator, id);
    await sleep(200);
    expect((await countPayouts(simulator.app)).statusCode).toBe(200);

    await outage(60);
    await expectDown(simulator, id);
    expect((await outage(0)).json()).toMatchObject({ outageSecondsLeft: 0 });
    expect((await listPayouts(simulator.app)).statusCode).toBe(200);
  });
});
