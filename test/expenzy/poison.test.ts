import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { defaultKnobs, malformedKinds, poisonKinds, type PayoutDefect } from '../../expenzy/knobs.js';
import { listPayouts, updatePayout, useExpenzy, type ListedPayout } from './harness.js';

const expenzy = useExpenzy();

const createPayouts = async (app: FastifyInstance, body: object) => {
  const response = await app.inject({ method: 'POST', url: '/admin/payouts', payload: body });
  expect(response.statusCode).toBe(200);
  return response.json<{ id: string; malformed_kind: PayoutDefect | null }[]>();
};

/** The list as the partner sends it (text), and as JSON.parse reads it. */
const listed = async (app: FastifyInstance) => {
  const response = await listPayouts(app, 'notifying');
  return { text: response.body, payouts: response.json<ListedPayout[]>() };
};

describe('poison payouts, injected through the admin route', () => {
  it('are not among the defects drawn by default', () => {
    expect(defaultKnobs.malformedKinds).toEqual([...malformedKinds]);
    expect(poisonKinds.filter((kind) => (malformedKinds as readonly string[]).includes(kind))).toEqual([]);
  });

  it('nul_recipient: the recipient carries the escape \\u0000 as the partner writes it', async () => {
    const { app } = await expenzy.start();
    await createPayouts(app, { recipient: 'FI0012345600000785', malformed: 'nul_recipient' });
    const { text, payouts } = await listed(app);
    expect(text).toContain('"FI0012345600000785\\u0000"');
    expect(payouts[0]?.recipient_account_identifier).toBe('FI0012345600000785\u0000');
  });

  it('nul_id: the id is the uuid followed by U+0000; by that id the partner knows no payout', async () => {
    const { app } = await expenzy.start();
    const [created] = await createPayouts(app, { malformed: 'nul_id' });
    const { text, payouts } = await listed(app);
    expect(text).toContain(`"${created!.id}\\u0000"`);
    expect(payouts[0]?.id).toBe(`${created!.id}\u0000`);
    expect((await updatePayout(app, encodeURIComponent(payouts[0]!.id), 'error')).json()).toEqual([]);
    // The real id still reaches it, and the answer renders the same defect.
    const [updated] = (await updatePayout(app, created!.id, 'error')).json<ListedPayout[]>();
    expect(updated).toEqual({ ...payouts[0], state: 'error' });
  });

  it('lone_surrogate: the recipient ends in \\ud800, a high surrogate without its pair', async () => {
    const { app } = await expenzy.start();
    await createPayouts(app, { recipient: 'FI0012345600000785', malformed: 'lone_surrogate' });
    const { text, payouts } = await listed(app);
    expect(text).toContain('"FI0012345600000785\\ud800"');
    expect(payouts[0]?.recipient_account_identifier).toBe('FI0012345600000785\ud800');
  });

  it('year_10000: a time on the last day of 9999 whose offset puts it in the year 10000 in UTC', async () => {
    const { app } = await expenzy.start();
    await createPayouts(app, { malformed: 'year_10000' });
    const createTime = (await listed(app)).payouts[0]?.create_time ?? '';
    expect(createTime).toBe('9999-12-31T23:59:59-01:00');
    expect(new Date(createTime).getUTCFullYear()).toBe(10000);
  });

  it.each([
    [false, '"amount":"100000000000000.00"'],
    [true, '"amount":100000000000000.00'],
  ])(
    'huge_amount (amountAsNumber %s): 15 digits before the point, one more than numeric(16, 2) holds',
    async (amountAsNumber, written) => {
      const { app } = await expenzy.start({ amountAsNumber });
      await createPayouts(app, { malformed: 'huge_amount' });
      expect((await listed(app)).text.replaceAll(' ', '')).toContain(written);
    },
  );

  it('each poison payout renders the same text in every list, and beside valid payouts', async () => {
    const { app } = await expenzy.start();
    await createPayouts(app, { count: 2, malformed: null });
    for (const malformed of poisonKinds) await createPayouts(app, { malformed });
    const first = await listed(app);
    expect(first.payouts).toHaveLength(2 + poisonKinds.length);
    expect((await listed(app)).text).toBe(first.text);
  });

  it('the malformedKinds knob may name poison kinds, drawn at malformedRate', async () => {
    const { app } = await expenzy.start({ malformedRate: 1, malformedKinds: ['year_10000', 'nul_id'] });
    const kinds = (await createPayouts(app, { count: 30 })).map((payout) => payout.malformed_kind);
    expect(new Set(kinds)).toEqual(new Set(['year_10000', 'nul_id']));

    const patched = await app.inject({
      method: 'PATCH',
      url: '/admin/knobs',
      payload: { malformedKinds: [...poisonKinds] },
    });
    expect(patched.json<{ malformedKinds: string[] }>().malformedKinds).toEqual([...poisonKinds]);
  });

  it('refuses a kind it does not know', async () => {
    const { app } = await expenzy.start();
    const response = await app.inject({
      method: 'POST',
      url: '/admin/payouts',
      payload: { malformed: 'nul_everything' },
    });
    expect(response.statusCode).toBe(400);
  });
});
