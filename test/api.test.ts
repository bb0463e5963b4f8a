import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { createSyncClient, type SyncClient } from '../src/temporal/sync-client.js';
import { loadConfig } from '../src/config.js';
import { createHolviDatabase, type TestDatabase, testPool } from './support/databases.js';
import { freePort } from '../tools/stack/ports.js';

/** A sync client that records signals; each resolves when `release` is called (or at once). */
function recordingSyncClient(options: { fail?: boolean } = {}) {
  const gateway = {
    signals: 0,
    async requestSync() {
      gateway.signals++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (options.fail) throw new Error('temporal down');
    },
    healthy: async () => !options.fail,
    close: async () => undefined,
  } satisfies SyncClient & { signals: number };
  return gateway;
}

describe('Holvi API', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const config = { EXPENZY_WEBHOOK_TOKEN: undefined, WEBHOOK_RATE_LIMIT_PER_MINUTE: 1000 };

  beforeAll(async () => {
    db = await createHolviDatabase();
    pool = testPool(db.appUrl);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('answers a webhook with ok once the signal is accepted, by GET or POST', async () => {
    const temporal = recordingSyncClient();
    const app = await buildApp({ config, pool, sync: temporal });
    for (const method of ['GET', 'POST'] as const) {
      const response = await app.inject({ method, url: '/expenzy/webhook/' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('ok');
    }
    expect(temporal.signals).toBe(2);
    await app.close();
  });

  it('coalesces a burst of 100 webhooks into at most two signals', async () => {
    const temporal = recordingSyncClient();
    const app = await buildApp({ config, pool, sync: temporal });
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => app.inject({ url: '/expenzy/webhook/' })),
    );
    expect(answers.every((answer) => answer.statusCode === 200)).toBe(true);
    expect(temporal.signals).toBe(2);
    await app.close();
  });

  it('answers at once while Temporal accepts signals, waits and answers 503 once they fail', async () => {
    let release: () => void = () => undefined;
    const gateway = {
      mode: 'accept' as 'accept' | 'hang' | 'fail',
      signals: 0,
      async requestSync() {
        gateway.signals++;
        if (gateway.mode === 'hang') await new Promise<void>((resolve) => (release = resolve));
        if (gateway.mode === 'fail') throw new Error('temporal down');
      },
      healthy: async () => gateway.mode !== 'fail',
      close: async () => undefined,
    };
    const app = await buildApp({ config, pool, sync: gateway });
    expect((await app.inject({ url: '/expenzy/webhook/' })).statusCode).toBe(200);

    gateway.mode = 'hang'; // a slow Temporal does not hold the answer back
    expect((await app.inject({ url: '/expenzy/webhook/' })).statusCode).toBe(200);
    expect(gateway.signals).toBe(2);
    gateway.mode = 'fail';
    release(); // the hung signal now fails: the next webhook waits for its own
    await new Promise((resolve) => setImmediate(resolve));
    expect((await app.inject({ url: '/expenzy/webhook/' })).statusCode).toBe(503);

    gateway.mode = 'accept'; // the background retry brings it back without any webhook
    const signalsBefore = gateway.signals;
    await vi.waitFor(() => expect(gateway.signals).toBeGreaterThan(signalsBefore), { timeout: 5_000 });
    await vi.waitFor(async () => {
      expect((await app.inject({ url: '/expenzy/webhook/' })).statusCode).toBe(200);
    });
    await app.close();
  });

  it('answers 503, never ok, when Temporal cannot take the signal', async () => {
    const app = await buildApp({ config, pool, sync: recordingSyncClient({ fail: true }) });
    const response = await app.inject({ url: '/expenzy/webhook/' });
    expect(response.statusCode).toBe(503);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    await app.close();
  });

  it('answers 503 against a real client whose Temporal server is not there', async () => {
    const deadAddress = `127.0.0.1:${await freePort()}`;
    const temporal = createSyncClient(loadConfig({ TEMPORAL_ADDRESS: deadAddress }));
    const app = await buildApp({ config, pool, sync: temporal });
    const started = Date.now();
    expect((await app.inject({ url: '/expenzy/webhook/' })).statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ database: true, temporal: false });
    await app.close();
    await temporal.close();
  });

  it('counts payouts as plain text, and reports health', async () => {
    const app = await buildApp({ config, pool, sync: recordingSyncClient() });
    await pool.query(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       VALUES (gen_random_uuid(), now(), '1.00', 'A'), (gen_random_uuid(), now(), '2.00', 'B')`,
    );
    const count = await app.inject({ url: '/payout/count' });
    expect(count.headers['content-type']).toMatch(/^text\/plain/);
    expect(count.body).toBe('2');
    expect((await app.inject({ url: '/healthz' })).body).toBe('ok');
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ database: true, temporal: true });
    await app.close();
  });

  it('does not echo unknown paths or input back', async () => {
    const app = await buildApp({ config, pool, sync: recordingSyncClient() });
    const response = await app.inject({ url: '/<script>alert(1)</script>' });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('script');
    const oversize = await app.inject({
      method: 'POST',
      url: '/expenzy/webhook/',
      payload: 'x'.repeat(4096),
      headers: { 'content-type': 'text/plain' },
    });
    expect(oversize.statusCode).toBe(413);
    expect(oversize.body).not.toContain('xxxx');
    await app.close();
  });

  describe('with a webhook token', () => {
    const secured = { EXPENZY_WEBHOOK_TOKEN: 's3cret-token', WEBHOOK_RATE_LIMIT_PER_MINUTE: 1000 };

    it.each([
      ['missing', {}, '/expenzy/webhook/', 401],
      ['wrong header', { 'x-webhook-token': 'nope' }, '/expenzy/webhook/', 401],
      ['wrong query', {}, '/expenzy/webhook/?token=nope', 401],
      ['right header', { 'x-webhook-token': 's3cret-token' }, '/expenzy/webhook/', 200],
      ['right query', {}, '/expenzy/webhook/?token=s3cret-token', 200],
    ])('%s token -> %i', async (_name, headers, url, status) => {
      const temporal = recordingSyncClient();
      const app = await buildApp({ config: secured, pool, sync: temporal });
      const response = await app.inject({ url, headers });
      expect(response.statusCode).toBe(status);
      expect(temporal.signals).toBe(status === 200 ? 1 : 0);
      await app.close();
    });
  });

  it('never writes the webhook token to the logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const app = await buildApp({
      config: { EXPENZY_WEBHOOK_TOKEN: 's3cret-token', WEBHOOK_RATE_LIMIT_PER_MINUTE: 1000 },
      pool,
      sync: recordingSyncClient(),
      logger,
    });
    await app.inject({ url: '/expenzy/webhook/?token=s3cret-token' });
    await app.inject({ url: '/expenzy/webhook/', headers: { 'x-webhook-token': 's3cret-token' } });
    await app.close();
    expect(lines.join('\n')).toContain('request completed');
    expect(lines.join('\n')).not.toContain('s3cret');
  });

  it('rate-limits the webhook route with 429', async () => {
    const app = await buildApp({
      config: { ...config, WEBHOOK_RATE_LIMIT_PER_MINUTE: 3 },
      pool,
      sync: recordingSyncClient(),
    });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.inject({ url: '/expenzy/webhook/' })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    await app.close();
  });

  it('exposes webhook and signal metrics', async () => {
    const app = await buildApp({ config, pool, sync: recordingSyncClient() });
    await app.inject({ url: '/expenzy/webhook/' });
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/holvi_webhooks_received_total\{result="ok"\} 1/);
    expect(metrics).toMatch(/holvi_sync_signals_sent_total\{result="ok"\} 1/);
    await app.close();
  });
});
