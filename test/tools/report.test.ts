import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, type Check, type Report } from '../../tools/report/index.js';
import {
  createReportDatabases,
  insertAtExpenzy,
  insertAtHolvi,
  insertRejected,
  partnerPayout,
  type PartnerPayout,
  type ReportDatabases,
} from './report-fixtures.js';

let dbs: ReportDatabases;
beforeAll(async () => {
  dbs = await createReportDatabases();
});
afterAll(async () => dbs.close());
beforeEach(async () => dbs.clear());

const report = (allowRepeatedUpdates = false) =>
  buildReport({ holviPool: dbs.holviApp, expenzyPool: dbs.expenzyPool, allowRepeatedUpdates });

/** Payouts at Expenzy, each recorded and confirmed at Holvi. */
async function consistentPayouts(...payouts: PartnerPayout[]): Promise<PartnerPayout[]> {
  await insertAtExpenzy(dbs.expenzyPool, ...payouts);
  for (const payout of payouts) await insertAtHolvi(dbs.holviOwner, payout);
  return payouts;
}

const failing = (r: Report) => r.checks.filter((check) => check.status !== 'OK').map((check) => check.key);
const check = (r: Report, key: Check['key']) => r.checks.find((c) => c.key === key)!;

describe('buildReport', () => {
  it('says OK for a consistent pair, counting a quarantined payout as expected absent', async () => {
    await consistentPayouts(partnerPayout(), partnerPayout({ amount: '99999999999999.99' }), partnerPayout());
    const bad = partnerPayout({ state: 'error' });
    await insertAtExpenzy(dbs.expenzyPool, bad);
    await insertRejected(dbs.holviOwner, bad.id.toUpperCase());

    const r = await report();

    expect(failing(r)).toEqual([]);
    expect(r.consistent).toBe(true);
    expect(r).toMatchObject({
      holviRows: 3,
      rejectedRows: 1,
      rejectedErrorAtPartner: 1,
      quarantined: 1,
      expectedHolviRows: 3,
      expenzy: { total: 4, processing: 3, notifying: 0, error: 1 },
      difference: { total: 0, processing: 0 },
      updates: { max: 1, beyondOne: 0, repeated: { count: 0, first: [] } },
    });
    expect(r.latencyMs.toReceived).toEqual({ count: 3, p50: 250, p95: 250, p99: 250, max: 250 });
    expect(r.latencyMs.toConfirmed?.max).toBe(400);
  });

  it('says OK for two empty databases', async () => {
    const r = await report();
    expect(r.consistent).toBe(true);
    expect(r.latencyMs).toEqual({ toReceived: null, toConfirmed: null });
  });

  it('finds a payout Holvi is missing, including one still notifying at Expenzy', async () => {
    await consistentPayouts(partnerPayout(), partnerPayout());
    const lost = partnerPayout({ state: 'processing' });
    const waiting = partnerPayout({ state: 'notifying', updateCount: 0 });
    await insertAtExpenzy(dbs.expenzyPool, lost, waiting);

    const r = await report();

    expect(r.consistent).toBe(false);
    expect(r.problems.missing).toEqual({ count: 2, first: [lost.id, waiting.id] });
    expect(r.difference).toEqual({ total: -2, processing: -1 });
    expect(failing(r)).toEqual(['total', 'processing', 'missing']);
  });

  it('lists at most five missing ids', async () => {
    await insertAtExpenzy(dbs.expenzyPool, ...Array.from({ length: 7 }, () => partnerPayout()));
    const r = await report();
    expect(r.problems.missing.count).toBe(7);
    expect(r.problems.missing.first).toHaveLength(5);
  });

  it('finds a payout Holvi holds that Expenzy does not know', async () => {
    await consistentPayouts(partnerPayout());
    const stranger = partnerPayout();
    await insertAtHolvi(dbs.holviOwner, stranger);

    const r = await report();

    expect(r.problems.unknownToExpenzy).toEqual({ count: 1, first: [stranger.id] });
    expect(r.difference).toEqual({ total: 1, processing: 1 });
    expect(failing(r)).toEqual(['total', 'processing', 'unknownToExpenzy']);
  });

  it('finds duplicates (only possible once the unique constraint is gone)', async () => {
    const [twice] = await consistentPayouts(partnerPayout(), partnerPayout());
    await dbs.holviOwner.query(
      'ALTER TABLE holvi_received_payout DROP CONSTRAINT holvi_received_payout_expenzy_uuid_key',
    );
    try {
      await insertAtHolvi(dbs.holviOwner, twice!);
      await insertAtHolvi(dbs.holviOwner, twice!);
      const r = await report();
      expect(r.holviRows).toBe(4);
      expect(r.problems.duplicates).toEqual({ count: 1, first: [twice!.id] });
      expect(failing(r)).toEqual(['total', 'processing', 'duplicates']);
    } finally {
      await dbs.clear();
      await dbs.holviOwner.query(
        `ALTER TABLE holvi_received_payout
           ADD CONSTRAINT holvi_received_payout_expenzy_uuid_key UNIQUE (expenzy_uuid)`,
      );
    }
  });

  it('compares amount, recipient and create_time exactly', async () => {
    const [amount, recipient, time] = [partnerPayout(), partnerPayout(), partnerPayout()];
    await insertAtExpenzy(dbs.expenzyPool, amount, recipient, time);
    await insertAtHolvi(dbs.holviOwner, { ...amount, amount: '12.31' });
    await insertAtHolvi(dbs.holviOwner, { ...recipient, recipient: `${recipient.recipient}X` });
    await insertAtHolvi(dbs.holviOwner, {
      ...time,
      createTime: time.createTime.replace('.123456', '.123457'),
    });

    const r = await report();

    expect(r.problems.amountMismatch).toEqual({ count: 1, first: [amount.id] });
    expect(r.problems.recipientMismatch).toEqual({ count: 1, first: [recipient.id] });
    expect(r.problems.createTimeMismatch).toEqual({ count: 1, first: [time.id] });
    expect(failing(r)).toEqual(['amountMismatch', 'recipientMismatch', 'createTimeMismatch']);
  });

  it('finds payouts recorded but not confirmed, and recorded but not marked at Expenzy', async () => {
    const [unconfirmed] = await consistentPayouts(partnerPayout(), partnerPayout());
    await dbs.holviOwner.query(
      'UPDATE holvi_received_payout SET processing_confirmed_at = NULL WHERE expenzy_uuid = $1',
      [unconfirmed!.id],
    );
    const unmarked = partnerPayout({ state: 'notifying', updateCount: 0 });
    await insertAtExpenzy(dbs.expenzyPool, unmarked);
    await insertAtHolvi(dbs.holviOwner, unmarked, { confirmedAfterMs: null });

    const r = await report();

    expect(r.problems.notConfirmed).toEqual({ count: 2, first: [unconfirmed!.id, unmarked.id] });
    expect(r.problems.notMarked).toEqual({ count: 1, first: [unmarked.id] });
    expect(r.difference).toEqual({ total: 0, processing: 1 });
    expect(failing(r)).toEqual(['processing', 'notMarked', 'notConfirmed']);
    expect(r.latencyMs.toConfirmed?.count).toBe(1);
  });

  it('fails on a payout updated twice, or warns when repeated updates are allowed', async () => {
    const twice = partnerPayout({ updateCount: 2 });
    await consistentPayouts(partnerPayout(), twice, partnerPayout({ updateCount: 3 }));

    const strict = await report();
    expect(strict.updates).toMatchObject({ max: 3, beyondOne: 3 });
    expect(strict.updates.repeated).toEqual({ count: 2, first: [twice.id, expect.any(String)] });
    expect(check(strict, 'maxUpdateCount')).toMatchObject({ figure: 3, status: 'FAIL' });
    expect(strict.consistent).toBe(false);

    const lenient = await report(true);
    expect(check(lenient, 'maxUpdateCount').status).toBe('WARN');
    expect(lenient.consistent).toBe(true);
  });

  it('counts a rejected payout the partner still lists as notifying as quarantined-unsettled (WARN), not missing', async () => {
    const rejected = partnerPayout({ state: 'notifying', updateCount: 0 });
    await insertAtExpenzy(dbs.expenzyPool, rejected);
    await insertRejected(dbs.holviOwner, rejected.id);
    await insertRejected(dbs.holviOwner, null);

    const r = await report();

    expect(r).toMatchObject({
      rejectedRows: 2,
      rejectedErrorAtPartner: 0,
      quarantined: 0,
      expectedHolviRows: 0,
    });
    expect(r.problems.missing.count).toBe(0);
    expect(r.quarantinedUnsettled.first).toEqual([rejected.id]);
    expect(r.checks.find((check) => check.key === 'quarantinedUnsettled')?.status).toBe('WARN');
    expect(r.consistent).toBe(true);
  });

  it('flags a payout Holvi recorded that Expenzy holds in error', async () => {
    const recorded = partnerPayout({ state: 'error' });
    await consistentPayouts(recorded);
    const r = await report();
    expect(r.problems.errorAtPartnerButRecorded.first).toEqual([recorded.id]);
    expect(failing(r)).toEqual(['processing', 'errorAtPartnerButRecorded']);
  });
});
