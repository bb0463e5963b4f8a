import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { malformedKinds, type MalformedKind } from '../../expenzy/knobs.js';
import { insertPayout, listPayouts, updatePayout, useExpenzy, type ListedPayout } from './harness.js';

const expenzy = useExpenzy();

const listed = async (app: FastifyInstance, state?: string) =>
  (await listPayouts(app, state)).json<ListedPayout[]>();

const createPayouts = async (app: FastifyInstance, body: object) =>
  (await app.inject({ method: 'POST', url: '/admin/payouts', payload: body })).json<
    { id: string; malformed_kind: MalformedKind | null }[]
  >();

describe('malformed payouts, as the list renders them', () => {
  it('bad_amount: one of three defects, chosen by the id', async () => {
    const { app } = await expenzy.start();
    // The variant is the id's last byte modulo 3.
    const prefix = '5d1c2b3a-4e5f-4a6b-8c7d-0000000000';
    for (const last of ['00', '01', '02']) {
      await insertPayout(expenzy.pool, { id: prefix + last, amount: '12.30', malformed: 'bad_amount' });
    }

    const amounts = Object.fromEntries(
      (await listed(app)).map((payout) => [payout.id.slice(-2), payout.amount]),
    );

    expect(amounts).toEqual({ '00': '12.3x', '01': '-12.30', '02': '12.307' });
  });

  it('bad_id: the id is no uuid, and updating by it answers [] as for an unknown id', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool, { malformed: 'bad_id' });

    const [payout] = await listed(app);
    expect(payout?.id).toBe(`txn-${id.slice(0, 8)}`);
    expect((await updatePayout(app, payout!.id, 'processing')).json()).toEqual([]);
    // Only someone who knows the real id can update it, and still gets the defect back.
    expect((await updatePayout(app, id, 'processing')).json()).toMatchObject([{ id: payout!.id }]);
  });

  it('long_recipient: more than 20 characters, starting with the real recipient', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool, { recipient: 'FI0012345600000785', malformed: 'long_recipient' });
    const recipient = (await listed(app))[0]?.recipient_account_identifier ?? '';
    expect(recipient.length).toBeGreaterThan(20);
    expect(recipient.startsWith('FI0012345600000785')).toBe(true);
  });

  it('bad_timestamp: a day-first date no ISO parser takes', async () => {
    const { app } = await expenzy.start();
    await insertPayout(expenzy.pool, { createTime: '2026-11-26T10:00:59.5Z', malformed: 'bad_timestamp' });
    const createTime = (await listed(app))[0]?.create_time ?? '';
    expect(createTime).toBe('26/11/2026 10:00');
    expect(Date.parse(createTime)).toBeNaN();
  });

  it('missing_field: the recipient is left out, the other fields stay', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool, { malformed: 'missing_field' });
    const [payout] = await listed(app);
    expect(payout).not.toHaveProperty('recipient_account_identifier');
    expect(payout).toMatchObject({ id, amount: '12.30', state: 'notifying' });
  });

  it('unknown_state: rendered "pending" although it matched the state filter', async () => {
    const { app } = await expenzy.start();
    const id = await insertPayout(expenzy.pool, { malformed: 'unknown_state' });
    expect(await listed(app, 'notifying')).toMatchObject([{ id, state: 'pending' }]);
  });

  it('each payout keeps its defect: every list shows the same text, updates included', async () => {
    const { app } = await expenzy.start();
    for (const malformed of malformedKinds) await createPayouts(app, { malformed });

    const first = await listed(app);
    expect(first).toHaveLength(malformedKinds.length);
    expect(await listed(app)).toEqual(first);
    expect(await listed(app, 'notifying')).toEqual(first);

    const longOne = first.find((payout) => (payout.recipient_account_identifier?.length ?? 0) > 20)!;
    const [updated] = (await updatePayout(app, longOne.id, 'processing')).json<ListedPayout[]>();
    expect(updated).toEqual({ ...longOne, state: 'processing' });
    expect(await listed(app, 'processing')).toEqual([updated]);
  });
});

describe('malformedRate and malformedKinds', () => {
  it('at 1, every new payout gets one of the allowed kinds', async () => {
    const { app } = await expenzy.start({ malformedRate: 1, malformedKinds: ['bad_id', 'missing_field'] });
    const kinds = (await createPayouts(app, { count: 30 })).map((payout) => payout.malformed_kind);
    expect(new Set(kinds)).toEqual(new Set(['bad_id', 'missing_field']));

    const payouts = await listed(app);
    expect(payouts.filter((payout) => payout.id.startsWith('txn-'))).toHaveLength(
      kinds.filter((kind) => kind === 'bad_id').length,
    );
    expect(payouts.filter((payout) => !('recipient_account_identifier' in payout))).toHaveLength(
      kinds.filter((kind) => kind === 'missing_field').length,
    );
  });

  it('at 0, no payout is malformed; an explicit null overrides a rate of 1', async () => {
    const { app, knobs } = await expenzy.start({ malformedRate: 0 });
    expect((await createPayouts(app, { count: 20 })).every((payout) => payout.malformed_kind === null)).toBe(
      true,
    );

    knobs.update({ malformedRate: 1 });
    expect(await createPayouts(app, { count: 3, malformed: null })).toMatchObject([
      { malformed_kind: null },
      { malformed_kind: null },
      { malformed_kind: null },
    ]);
  });

  it('at 0.5, makes some of each', async () => {
    const { app } = await expenzy.start({ malformedRate: 0.5 });
    const kinds = (await createPayouts(app, { count: 60 })).map((payout) => payout.malformed_kind);
    expect(kinds.filter((kind) => kind === null).length).toBeGreaterThan(10);
    expect(kinds.filter((kind) => kind !== null).length).toBeGreaterThan(10);
  });
});
