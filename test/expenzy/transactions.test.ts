import { describe, expect, it } from 'vitest';
import {
  countPayouts,
  insertPayout,
  listPayouts,
  storedPayout,
  updatePayout,
  useExpenzy,
  type ListedPayout,
} from './harness.js';

const expenzy = useExpenzy();
const unknownId = '3f2b8c1e-9a4d-4e6f-8b10-2c3d4e5f6a7b';

describe('POST /api/transaction/ (the list)', () => {
  it('answers every payout in one JSON list, newest create_time first', async () => {
    const { app } = await expenzy.start();
    const middle = await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:02Z' });
    const oldest = await insertPayout(expenzy.pool, {
      createTime: '2026-11-26T10:00:01.5Z',
      amount: '7.05',
      recipient: 'FI99',
    });
    const newest = await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:03Z' });

    const response = await listPayouts(app);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const payouts = response.json<ListedPayout[]>();
    expect(payouts.map((payout) => payout.id)).toEqual([newest, middle, oldest]);
    expect(payouts[2]).toEqual({
      id: oldest,
      amount: '7.05',
      create_time: '2026-11-26T10:00:01.500000+00:00',
      recipient_account_identifier: 'FI99',
      state: 'notifying',
    });
  });

  it('answers an empty list when there are no payouts', async () => {
    const { app } = await expenzy.start();
    const response = await listPayouts(app);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });

  it('is a POST: a GET is not routed', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool);
    expect((await app.inject({ method: 'GET', url: '/api/transaction/' })).statusCode).toBe(404);
  });

  it('filters by the state query parameter; a state nobody has gives []', async () => {
    const { app } = await expenzy.start();
    const waiting = await insertPayout(expenzy.pool, { state: 'notifying' });
    const taken = await insertPayout(expenzy.pool, { state: 'processing' });
    const failed = await insertPayout(expenzy.pool, { state: 'error' });

    const ids = async (state: string) =>
      (await listPayouts(app, state)).json<ListedPayout[]>().map((payout) => payout.id);

    expect(await ids('notifying')).toEqual([waiting]);
    expect(await ids('processing')).toEqual([taken]);
    expect(await ids('error')).toEqual([failed]);
    expect(await ids('pending')).toEqual([]);
  });
});

describe('POST /api/transaction/:id/ (the update)', () => {
  it('sets the state and answers a one-element list holding the updated payout', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:00.25Z', amount: '99.99' });

    const response = await updatePayout(app, id, 'processing');

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      {
        id,
        amount: '99.99',
        create_time: '2026-11-26T10:00:00.250000+00:00',
        recipient_account_identifier: 'FI0012345600000785',
        state: 'processing',
      },
    ]);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({
      state: 'processing',
      state_update_count: 1,
    });
  });

  it('checks no transition: every successful update counts, processing -> processing included', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);

    for (const state of ['processing', 'processing', 'error', 'processing']) {
      const response = await updatePayout(app, id, state);
      expect(response.statusCode).toBe(200);
      expect(response.json<ListedPayout[]>()[0]?.state).toBe(state);
    }

    expect(await storedPayout(expenzy.pool, id)).toMatchObject({
      state: 'processing',
      state_update_count: 4,
    });
  });

  it.each([['notifying'], ['done'], [''], [undefined]])(
    'answers 404 with a JSON error for state %j and changes nothing',
    async (state) => {
      const { app } = await expenzy.start();
      const id = await insertPayout(expenzy.pool);

      const response = await updatePayout(app, id, state);

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: expect.stringContaining('processing') });
      expect(await storedPayout(expenzy.pool, id)).toMatchObject({
        state: 'notifying',
        state_update_count: 0,
      });
    },
  );

  it('answers 200 [] for an unknown uuid and for an id that is no uuid', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);

    for (const target of [unknownId, 'not-a-uuid', `${id}0`]) {
      const response = await updatePayout(app, target, 'processing');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual([]);
    }
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state: 'notifying', state_update_count: 0 });
  });

  it('takes the uuid in any letter case', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);
    const response = await updatePayout(app, id.toUpperCase(), 'error');
    expect(response.json<ListedPayout[]>()).toMatchObject([{ id, state: 'error' }]);
  });

  it('lives at the path the contract gives, trailing slash included', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);
    const response = await app.inject({
      method: 'POST',
      url: `/api/transaction/${id}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'state=processing',
    });
    expect(response.statusCode).toBe(404);
    expect(await storedPayout(expenzy.pool, id)).toMatchObject({ state: 'notifying' });
  });
});

describe('GET /api/transaction/count', () => {
  it('counts all payouts, those in processing, and the highest update count among processing ones', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool, { state: 'processing', updateCount: 1 });
    await insertPayout(expenzy.pool, { state: 'processing', updateCount: 2 });
    await insertPayout(expenzy.pool, { state: 'error', updateCount: 5 });
    await insertPayout(expenzy.pool);

    const response = await countPayouts(app);

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      total_num_transactions: 4,
      processing_num_transactions: 2,
      max_update_count: 2,
    });
  });

  it('answers JSON zeros when there is nothing', async () => {
    const { app } = await expenzy.start();
    expect((await countPayouts(app)).body).toBe(
      '{"total_num_transactions":0,"processing_num_transactions":0,"max_update_count":0}',
    );
  });

  it('follows the updates made through the API', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool);
    await insertPayout(expenzy.pool);
    await updatePayout(app, id, 'processing');
    await updatePayout(app, id, 'processing');
    expect((await countPayouts(app)).json()).toEqual({
      total_num_transactions: 2,
      processing_num_transactions: 1,
      max_update_count: 2,
    });
  });
});

describe('GET /healthz', () => {
  it('answers ok', async () => {
    const { app } = await expenzy.start();
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ok');
  });
});
