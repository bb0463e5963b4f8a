import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useExpenzy, type ListedPayout } from './harness.js';

const expenzy = useExpenzy();

/** Over a real socket, with fetch, as Holvi's client will talk to the partner. */
describe('the simulator over HTTP', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app } = await expenzy.start());
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('lists 100,000 payouts in one answer, quickly, newest first', async () => {
    await expenzy.pool.query(
      `INSERT INTO expenzy_transaction (id, amount, create_time, recipient_account_identifier)
       SELECT gen_random_uuid(), (100 + i % 9900) / 100.0, timestamptz '2026-11-26 10:00Z' + i * interval '1 ms',
              'FI' || lpad(i::text, 16, '0')
         FROM generate_series(1, 100000) AS i`,
    );

    const started = performance.now();
    const response = await fetch(`${base}/api/transaction/`, { method: 'POST' });
    const payouts = (await response.json()) as ListedPayout[];
    const elapsed = performance.now() - started;

    expect(response.status).toBe(200);
    expect(payouts).toHaveLength(100_000);
    expect(payouts[0]).toMatchObject({
      amount: '1.00',
      create_time: '2026-11-26T10:01:40+00:00',
      recipient_account_identifier: 'FI0000000000100000',
    });
    expect(payouts[99_999]?.recipient_account_identifier).toBe('FI0000000000000001');
    expect(elapsed).toBeLessThan(3000);
  });

  it('takes a form-encoded update and reports it in the count', async () => {
    const [first] = (await (await fetch(`${base}/api/transaction/?state=notifying`, { method: 'POST' })).json()) as [
      ListedPayout,
    ];

    const update = await fetch(`${base}/api/transaction/${first.id}/`, {
      method: 'POST',
      body: new URLSearchParams({ state: 'processing' }),
    });
    expect(update.status).toBe(200);
    expect(await update.json()).toEqual([{ ...first, state: 'processing' }]);

    const refused = await fetch(`${base}/api/transaction/${first.id}/`, {
      method: 'POST',
      body: new URLSearchParams({ state: 'notifying' }),
    });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);

    const count = await fetch(`${base}/api/transaction/count`);
    expect(await count.json()).toEqual({
      total_num_transactions: 100_000,
      processing_num_transactions: 1,
      max_update_count: 1,
    });
  });
});
