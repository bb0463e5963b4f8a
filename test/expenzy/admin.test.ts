import { describe, expect, it } from 'vitest';
import {
  countPayouts,
  insertPayout,
  listPayouts,
  updatePayout,
  useExpenzy,
  type ListedPayout,
} from './harness.js';

const expenzy = useExpenzy();

interface RawPayout {
  id: string;
  amount: string;
  create_time: string;
  recipient_account_identifier: string;
  state: string;
  state_update_count: number;
  malformed_kind: string | null;
}

describe('admin routes disabled', () => {
  it.each([
    ['GET', '/admin/knobs'],
    ['PATCH', '/admin/knobs'],
    ['POST', '/admin/outage'],
    ['POST', '/admin/payouts'],
    ['GET', '/admin/payouts'],
    ['POST', '/admin/reset'],
    ['GET', '/admin/calls'],
  ] as const)('%s %s answers 404 like an unknown path', async (method, url) => {
    const { app } = await expenzy.start({}, { adminEnabled: false });
    await insertPayout(expenzy.pool);

    const response = await app.inject({ method, url, payload: {} });

    expect(response.statusCode).toBe(404);
    expect((await countPayouts(app)).json()).toMatchObject({ total_num_transactions: 1 });
  });
});

describe('/admin/knobs', () => {
  it('GET shows every knob, the seed and the outage left', async () => {
    const { app } = await expenzy.start({}, { seed: 99 });
    expect((await app.inject('/admin/knobs')).json()).toEqual({
      failureRate: 0,
      failAfterCommitRate: 0,
      latencyMs: '0',
      listLatencyMs: null,
      listFailureRate: 0,
      refuseUpdates: 'off',
      malformedRate: 0,
      malformedKinds: [
        'bad_amount',
        'bad_id',
        'long_recipient',
        'bad_timestamp',
        'missing_field',
        'unknown_state',
      ],
      timeFormat: 'iso',
      amountAsNumber: false,
      outageSecondsLeft: 0,
      seed: 99,
    });
  });

  it('PATCH changes only the knobs given, answers the new set, and takes effect at once', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);

    const response = await app.inject({
      method: 'PATCH',
      url: '/admin/knobs',
      payload: { failureRate: 1, latencyMs: 5, timeFormat: 'http-date' },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      failureRate: 1,
      latencyMs: '5',
      timeFormat: 'http-date',
      listFailureRate: 0,
      amountAsNumber: false,
    });
    expect((await app.inject('/admin/knobs')).json()).toEqual(response.json());
    expect((await updatePayout(app, id, 'processing')).statusCode).toBe(500);
    expect((await listPayouts(app)).json<ListedPayout[]>()[0]?.create_time).toMatch(/GMT$/);
  });

  it.each([
    [{ failureRate: 1.5 }, 'failureRate'],
    [{ failAfterCommitRate: -0.1 }, 'failAfterCommitRate'],
    [{ listFailureRate: '0.5' }, 'listFailureRate'],
    [{ malformedRate: null }, 'malformedRate'],
    [{ latencyMs: 'fast' }, 'latencyMs'],
    [{ latencyMs: '3000-1000' }, 'latencyMs'],
    [{ latencyMs: -5 }, 'latencyMs'],
    [{ timeFormat: 'unix' }, 'timeFormat'],
    [{ malformedKinds: ['bad_id', 'nope'] }, 'malformedKinds'],
    [{ malformedKinds: [] }, 'malformedKinds'],
    [{ amountAsNumber: 'yes' }, 'amountAsNumber'],
    [{ seed: 3 }, 'seed'],
    [[1], 'body'],
  ])('PATCH rejects %j with a 400 naming %s, and changes nothing', async (payload, named) => {
    const { app } = await expenzy.start();
    const before = (await app.inject('/admin/knobs')).json();

    const rejected = await app.inject({ method: 'PATCH', url: '/admin/knobs', payload });
    // A good knob next to a bad one is not applied either.
    const mixed = await app.inject({
      method: 'PATCH',
      url: '/admin/knobs',
      payload: { amountAsNumber: true, ...payload },
    });

    expect(rejected.statusCode).toBe(400);
    expect(rejected.json<{ issues: string[] }>().issues.join('\n')).toContain(named);
    expect(mixed.statusCode).toBe(400);
    expect((await app.inject('/admin/knobs')).json()).toEqual(before);
  });
});

describe('POST /admin/outage', () => {
  it('rejects a negative or missing number of seconds', async () => {
    const { app } = await expenzy.start();
    for (const payload of [{ seconds: -1 }, {}, { seconds: 'soon' }]) {
      expect((await app.inject({ method: 'POST', url: '/admin/outage', payload })).statusCode).toBe(400);
    }
    expect((await countPayouts(app)).statusCode).toBe(200);
  });
});

describe('/admin/payouts', () => {
  it('POST without a body creates one random payout, as the stock producer would', async () => {
    const { app } = await expenzy.start();

    const response = await app.inject({ method: 'POST', url: '/admin/payouts' });

    expect(response.statusCode).toBe(200);
    const [created] = response.json<{ id: string; malformed_kind: null }[]>();
    const [payout] = (await listPayouts(app)).json<ListedPayout[]>();
    expect(payout).toMatchObject({ id: created?.id, state: 'notifying' });
    expect(payout?.amount).toMatch(/^\d{1,2}\.\d{2}$/);
    expect(Number(payout?.amount)).toBeGreaterThanOrEqual(1);
    expect(payout?.recipient_account_identifier).toMatch(/^FI\d{16}$/);
  });

  it('POST creates count payouts in order, each committed with its own create_time', async () => {
    const { app } = await expenzy.start();

    const created = (await app.inject({ method: 'POST', url: '/admin/payouts', payload: { count: 5 } })).json<
      { id: string }[]
    >();

    expect(created).toHaveLength(5);
    const listed = (await listPayouts(app)).json<ListedPayout[]>();
    expect(listed.map((payout) => payout.id)).toEqual(created.map((payout) => payout.id).reverse());
    expect(new Set(listed.map((payout) => payout.create_time)).size).toBe(5);
  });

  it('POST keeps the amount and recipient given, to the cent, beyond what a JS number holds', async () => {
    const { app } = await expenzy.start();
    await app.inject({
      method: 'POST',
      url: '/admin/payouts',
      payload: { count: 2, amount: '90071992547409.93', recipient: 'DE89370400440532013000'.slice(0, 20) },
    });

    const listed = (await listPayouts(app)).json<ListedPayout[]>();
    expect(listed.map((payout) => [payout.amount, payout.recipient_account_identifier])).toEqual([
      ['90071992547409.93', 'DE893704004405320130'],
      ['90071992547409.93', 'DE893704004405320130'],
    ]);
  });

  it.each([
    { count: 0 },
    { count: 1001 },
    { count: 1.5 },
    { amount: '12.3' },
    { amount: '12,30' },
    { amount: '-1.00' },
    { recipient: '' },
    { recipient: 'X'.repeat(21) },
    { malformed: 'weird' },
  ])('POST rejects %j with a 400 and creates nothing', async (payload) => {
    const { app } = await expenzy.start();
    const response = await app.inject({ method: 'POST', url: '/admin/payouts', payload });
    expect(response.statusCode).toBe(400);
    expect((await countPayouts(app)).json()).toMatchObject({ total_num_transactions: 0 });
  });

  it('GET shows the raw rows: real id, real state, update count and defect', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool, { amount: '5.00', malformed: 'bad_id' });
    await updatePayout(app, id, 'processing');
    await updatePayout(app, id, 'processing');

    const rows = (await app.inject('/admin/payouts')).json<RawPayout[]>();

    expect(rows).toEqual([
      {
        id,
        amount: '5.00',
        create_time: expect.any(String),
        recipient_account_identifier: 'FI0012345600000785',
        state: 'processing',
        state_update_count: 2,
        malformed_kind: 'bad_id',
      },
    ]);
  });
});

describe('POST /admin/reset', () => {
  it('removes every payout', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool);
    await insertPayout(expenzy.pool, { state: 'processing', updateCount: 3 });

    expect((await app.inject({ method: 'POST', url: '/admin/reset' })).statusCode).toBe(204);

    expect((await listPayouts(app)).json()).toEqual([]);
    expect((await countPayouts(app)).json()).toEqual({
      total_num_transactions: 0,
      processing_num_transactions: 0,
      max_update_count: 0,
    });
  });
});

describe('GET /admin/calls', () => {
  it('counts the public API calls per operation since start, failures (5xx) included', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);
    expect((await app.inject('/admin/calls')).json()).toEqual({
      list: { calls: 0, failed: 0 },
      update: { calls: 0, failed: 0 },
      count: { calls: 0, failed: 0 },
    });

    await listPayouts(app, 'notifying');
    await listPayouts(app);
    await updatePayout(app, id, 'processing');
    await updatePayout(app, id); // 404: no state given; counted, not failed
    await app.inject({
      method: 'PATCH',
      url: '/admin/knobs',
      payload: { failureRate: 1, listFailureRate: 1 },
    });
    await updatePayout(app, id, 'processing');
    await listPayouts(app);
    await countPayouts(app);
    await app.inject({ method: 'POST', url: '/admin/outage', payload: { seconds: 60 } });
    await countPayouts(app);

    expect((await app.inject('/admin/calls')).json()).toEqual({
      list: { calls: 3, failed: 1 },
      update: { calls: 3, failed: 1 },
      count: { calls: 2, failed: 1 },
    });
  });

  it('starts over with a new simulator', async () => {
    const first = await expenzy.start();
    await listPayouts(first.app);
    const second = await expenzy.start();
    expect((await second.app.inject('/admin/calls')).json()).toMatchObject({ list: { calls: 0 } });
  });
});
