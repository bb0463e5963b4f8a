import { describe, expect, it } from 'vitest';
import type { TimeFormat } from '../../expenzy/knobs.js';
import { insertPayout, listPayouts, updatePayout, useExpenzy, type ListedPayout } from './harness.js';

const expenzy = useExpenzy();

describe('timeFormat', () => {
  it.each<[TimeFormat, string]>([
    ['iso', '2026-11-26T10:00:00.123456+00:00'],
    ['iso-z', '2026-11-26T10:00:00.123456Z'],
    ['iso-seconds', '2026-11-26T12:00:00+02:00'],
    ['http-date', 'Thu, 26 Nov 2026 10:00:00 GMT'],
  ])('%s renders create_time as %s, in the list and in the update answer', async (timeFormat, expected) => {
    const { app } = await expenzy.start({ timeFormat });
    const id = await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:00.123456Z' });

    expect((await listPayouts(app)).json<ListedPayout[]>()[0]?.create_time).toBe(expected);
    expect((await updatePayout(app, id, 'processing')).json<ListedPayout[]>()[0]?.create_time).toBe(expected);
  });

  it('iso drops the fraction when the microseconds are zero, as Python does', async () => {
    const { app } = await expenzy.start({ timeFormat: 'iso' });
    await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:00Z' });
    expect((await listPayouts(app)).json<ListedPayout[]>()[0]?.create_time).toBe('2026-11-26T10:00:00+00:00');
  });

  it('iso-seconds shifts to +02:00 across midnight and truncates the fraction', async () => {
    const { app } = await expenzy.start({ timeFormat: 'iso-seconds' });
    await insertPayout(expenzy.pool, { createTime: '2026-11-26T23:30:00.999999Z' });
    expect((await listPayouts(app)).json<ListedPayout[]>()[0]?.create_time).toBe('2026-11-27T01:30:00+02:00');
  });
});

describe('amountAsNumber', () => {
  it('off: the amount is a string with two decimals', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool, { amount: '10.50' });
    const response = await listPayouts(app);
    expect(response.body).toMatch(/"amount"\s*:\s*"10\.50"/);
  });

  it('on: the amount is a JSON number, trailing zero kept in the text', async () => {
    const { app } = await expenzy.start({ amountAsNumber: true });
    const id = await insertPayout(expenzy.pool, { amount: '10.50' });

    const response = await listPayouts(app);
    expect(response.body).toMatch(/"amount"\s*:\s*10\.50[\s,}]/);
    expect(response.json<ListedPayout[]>()[0]?.amount).toBe(10.5);
    expect((await updatePayout(app, id, 'processing')).json<ListedPayout[]>()[0]?.amount).toBe(10.5);
  });

  it('on: a bad amount is a number when it reads as one, a string otherwise', async () => {
    const { app } = await expenzy.start({ amountAsNumber: true });
    const prefix = '5d1c2b3a-4e5f-4a6b-8c7d-0000000000';
    for (const last of ['00', '01', '02']) {
      await insertPayout(expenzy.pool, { id: prefix + last, amount: '12.30', malformed: 'bad_amount' });
    }
    const amounts = (await listPayouts(app)).json<ListedPayout[]>().map((payout) => payout.amount);
    expect(amounts.sort()).toEqual([-12.3, 12.307, '12.3x'].sort());
  });
});
