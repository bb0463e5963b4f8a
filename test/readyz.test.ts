import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import type { SyncClient } from '../src/temporal/sync-client.js';

// /readyz as Kubernetes uses it: an API pod stays ready through a short Temporal outage (it still
// acknowledges webhooks and sends their signal when Temporal is back), not through a long one.
// The clock is a fake one: nothing here waits.

function fakes(options: { database?: boolean } = {}) {
  const state = { temporal: true, now: 1_000_000 };
  const pool = {
    query: async () => {
      if (options.database === false) throw new Error('database down');
      return { rows: [] };
    },
  } as unknown as pg.Pool;
  const temporal: SyncClient = {
    requestSync: async () => undefined,
    healthy: async () => state.temporal,
    close: async () => undefined,
  };
  return { state, pool, temporal };
}

const config = {
  EXPENZY_WEBHOOK_TOKEN: undefined,
  WEBHOOK_RATE_LIMIT_PER_MINUTE: 1000,
  READY_TEMPORAL_GRACE: 30_000,
};

describe('/readyz', () => {
  it('stays ready while Temporal has been away less than READY_TEMPORAL_GRACE, then not', async () => {
    const { state, pool, temporal } = fakes();
    const app = await buildApp({ config, pool, sync: temporal, clock: () => state.now });
    const ready = async () => (await app.inject({ url: '/readyz' })).statusCode;

    expect(await ready()).toBe(200);
    state.temporal = false;
    state.now += 29_999;
    const during = await app.inject({ url: '/readyz' });
    expect(during.statusCode).toBe(200);
    expect(during.json()).toEqual({ database: true, temporal: false, temporalUnreachableForMs: 29_999 });
    state.now += 1;
    expect(await ready()).toBe(503);

    state.temporal = true;
    expect(await ready()).toBe(200);
    await app.close();
  });

  it('is not ready before Temporal was ever reached', async () => {
    const { state, pool, temporal } = fakes();
    state.temporal = false;
    const app = await buildApp({ config, pool, sync: temporal, clock: () => state.now });
    const response = await app.inject({ url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ database: true, temporal: false });
    await app.close();
  });

  it('is not ready without the database, whatever Temporal says', async () => {
    const { state, pool, temporal } = fakes({ database: false });
    const app = await buildApp({ config, pool, sync: temporal, clock: () => state.now });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });
});
