import { describe, expect, it } from 'vitest';
import { insertPayout, useExpenzy, type ListedPayout } from './harness.js';

const expenzy = useExpenzy();

/** A simulator on a real socket: its base URL. The harness closes it after the test. */
async function listening(): Promise<string> {
  const { app } = await expenzy.start();
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Over a real socket, with fetch, as Holvi's client talks to the partner. */
describe('the simulator over HTTP', () => {
  it('lists 100,000 payouts in one answer, quickly, newest first', async () => {
    const base = await listening();
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
    expect(payouts[0]).toEqual({
      id: expect.any(String),
      amount: '11.00',
      create_time: '2026-11-26T10:01:40+00:00',
      recipient_account_identifier: 'FI0000000000100000',
      state: 'notifying',
    });
    expect(payouts[99_999]).toMatchObject({
      amount: '1.01',
      create_time: '2026-11-26T10:00:00.001000+00:00',
      recipient_account_identifier: 'FI0000000000000001',
    });
    // About a second on a quiet machine; the bound only catches a gross regression.
    expect(elapsed).toBeLessThan(4000);
  });

  it('takes a form-encoded update, refuses a bad state with JSON, and counts', async () => {
    const base = await listening();
    const id = await insertPayout(expenzy.pool, { amount: '42.00' });
    await insertPayout(expenzy.pool);

    const update = await fetch(`${base}/api/transaction/${id}/`, {
      method: 'POST',
      body: new URLSearchParams({ state: 'processing' }),
    });
    expect(update.status).toBe(200);
    expect(await update.json()).toMatchObject([{ id, amount: '42.00', state: 'processing' }]);

    const refused = await fetch(`${base}/api/transaction/${id}/`, {
      method: 'POST',
      body: new URLSearchParams({ state: 'notifying' }),
    });
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({ error: expect.any(String) });

    const count = await fetch(`${base}/api/transaction/count`);
    expect(await count.json()).toEqual({
      total_num_transactions: 2,
      processing_num_transactions: 1,
      max_update_count: 1,
    });
  });
});
