import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildExpenzyApp } from '../expenzy/app.js';
import { migrateExpenzy } from '../expenzy/db.js';
import { Knobs } from '../expenzy/knobs.js';
import { createActivities, type ActivityDependencies } from '../src/activities/index.js';
import { createExpenzyClient, type ExpenzyClient } from '../src/partner/expenzy-client.js';
import { PartnerUnavailableError } from '../src/partner/errors.js';
import { createExpenzyDatabase, createHolviDatabase, type TestDatabase } from './support/databases.js';
import { startHostilePartner } from './support/hostile-partner.js';

/** MockActivityEnvironment with the activity's own types (its run() cannot infer the result). */
class ActivityEnv extends MockActivityEnvironment {
  constructor(info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) {
    super(info, { logger: new DefaultLogger('WARN') });
  }

  call<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
    return this.run(fn, ...args) as Promise<R>;
  }
}

const clientFor = (baseUrl: string, overrides: Partial<Parameters<typeof createExpenzyClient>[0]> = {}) =>
  createExpenzyClient({
    baseUrl,
    timeoutMs: 2_000,
    maxResponseBytes: 1024 * 1024,
    maxParallelCalls: 4,
    ...overrides,
  });

describe('activities against PostgreSQL and the simulator', () => {
  let holvi: TestDatabase;
  let expenzy: TestDatabase;
  let holviPool: pg.Pool;
  let expenzyPool: pg.Pool;
  let knobs: Knobs;
  let simulator: ReturnType<typeof buildExpenzyApp>;
  let partner: ExpenzyClient;
  let deps: ActivityDependencies;

  beforeAll(async () => {
    expenzy = await createExpenzyDatabase();
    expenzyPool = new pg.Pool({ connectionString: expenzy.ownerUrl });
    await migrateExpenzy(expenzyPool);
    knobs = new Knobs({ failureRate: 0 }, { seed: 7 });
    simulator = buildExpenzyApp({ pool: expenzyPool, knobs, adminEnabled: true });
    partner = clientFor(await simulator.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterEach(async () => {
    knobs.update({ failureRate: 0, failAfterCommitRate: 0 });
    await expenzyPool.query('TRUNCATE expenzy_transaction');
    await holviPool.end();
    await holvi.drop();
  });
  afterAll(async () => {
    await partner.close();
    await simulator.close();
    await expenzyPool.end();
    await expenzy.drop();
  });

  /** Each test gets its own Holvi database. */
  async function freshHolvi() {
    holvi = await createHolviDatabase();
    holviPool = new pg.Pool({ connectionString: holvi.appUrl });
    deps = { pool: holviPool, expenzy: partner, batchSize: 50 };
    return createActivities(deps);
  }

  async function createPayouts(count: number): Promise<string[]> {
    const response = await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { count } });
    return (response.json() as { id: string }[]).map((payout) => payout.id);
  }

  const updateCounts = async () =>
    (
      await expenzyPool.query<{ id: string; state: string; state_update_count: number }>(
        'SELECT id, state, state_update_count FROM expenzy_transaction',
      )
    ).rows;

  it('FetchTransactions returns one batch, oldest first, and how many remain', async () => {
    const activities = await freshHolvi();
    const ids = await createPayouts(70);
    const result = await new ActivityEnv().call(activities.FetchTransactions);
    expect(result.payouts).toHaveLength(50);
    expect(result.remaining).toBe(20);
    expect(result.payouts.map((payout) => payout.expenzyId)).toEqual(ids.slice(0, 50));
    const times = result.payouts.map((payout) => payout.createTime);
    expect([...times].sort()).toEqual(times);
  });

  it('RecordPayout is idempotent and keeps amounts and microseconds exact', async () => {
    const activities = await freshHolvi();
    await createPayouts(3);
    const env = new ActivityEnv();
    const { payouts } = await env.call(activities.FetchTransactions);
    expect(await env.call(activities.RecordPayout, payouts)).toEqual({ inserted: 3, alreadyRecorded: 0 });
    expect(await env.call(activities.RecordPayout, payouts)).toEqual({ inserted: 0, alreadyRecorded: 3 });
    const { rows } = await holviPool.query(
      `SELECT h.expenzy_uuid, h.amount::text AS amount,
              to_char(h.create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS create_time
         FROM holvi_received_payout h ORDER BY h.create_time`,
    );
    expect(rows.map((row) => [row.expenzy_uuid, row.amount, row.create_time])).toEqual(
      payouts.map((payout) => [payout.expenzyId, payout.amount, payout.createTime]),
    );
    const partnerSide = await expenzyPool.query(
      `SELECT amount::text AS amount FROM expenzy_transaction ORDER BY create_time`,
    );
    expect(partnerSide.rows.map((row) => row.amount)).toEqual(rows.map((row) => row.amount));
  });

  it('MarkProcessing only touches payouts committed in Holvi, and confirms them', async () => {
    const activities = await freshHolvi();
    await createPayouts(4);
    const env = new ActivityEnv();
    const { payouts } = await env.call(activities.FetchTransactions);
    await env.call(activities.RecordPayout, payouts.slice(0, 2));
    const result = await env.call(
      activities.MarkProcessing,
      payouts.map((payout) => payout.expenzyId),
    );
    expect(result).toMatchObject({ marked: 2, skipped: 2, retryLater: 0, failed: [] });
    const states = await updateCounts();
    expect(states.filter((row) => row.state === 'processing')).toHaveLength(2);
    const confirmed = await holviPool.query(
      'SELECT count(*)::int AS n FROM holvi_received_payout WHERE processing_confirmed_at IS NOT NULL',
    );
    expect(confirmed.rows[0].n).toBe(2);
  });

  it('MarkProcessing leaves transient failures to the next pass, and fails only when nothing got through', async () => {
    const activities = await freshHolvi();
    await createPayouts(10);
    const env = new ActivityEnv();
    const { payouts } = await env.call(activities.FetchTransactions);
    await env.call(activities.RecordPayout, payouts);
    knobs.update({ failureRate: 1 });
    await expect(
      env.call(
        activities.MarkProcessing,
        payouts.map((p) => p.expenzyId),
      ),
    ).rejects.toThrow(/all 10 updates failed transiently/);
    expect((await updateCounts()).every((row) => row.state_update_count === 0)).toBe(true);
    knobs.update({ failureRate: 0.5 });
    const partial = await env.call(
      activities.MarkProcessing,
      payouts.map((p) => p.expenzyId),
    );
    expect(partial.marked + partial.retryLater).toBe(10);
    knobs.update({ failureRate: 0 });
    const rest = await env.call(
      activities.MarkProcessing,
      payouts.map((p) => p.expenzyId),
    );
    expect(rest).toMatchObject({ marked: partial.retryLater, skipped: partial.marked });
    expect((await updateCounts()).every((row) => row.state_update_count === 1)).toBe(true);
  });

  it('a retry after a lost answer (500 after commit) records instead of updating twice', async () => {
    const activities = await freshHolvi();
    await createPayouts(5);
    const env = new ActivityEnv();
    const { payouts } = await env.call(activities.FetchTransactions);
    await env.call(activities.RecordPayout, payouts);
    knobs.update({ failAfterCommitRate: 1 });
    const ids = payouts.map((p) => p.expenzyId);
    await expect(env.call(activities.MarkProcessing, ids)).rejects.toThrow(/failed transiently/);
    knobs.update({ failAfterCommitRate: 0 });
    const retry = await new ActivityEnv({ attempt: 2 }).call(activities.MarkProcessing, ids);
    expect(retry).toMatchObject({ marked: 0, alreadyProcessing: 5 });
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1, 1, 1, 1]);
  });

  it('crash window "partner applied, our row not confirmed" is settled by the next fetch without a second update', async () => {
    const activities = await freshHolvi();
    await createPayouts(3);
    const env = new ActivityEnv();
    const { payouts } = await env.call(activities.FetchTransactions);
    await env.call(activities.RecordPayout, payouts);
    await partner.updateState(payouts[0]!.expenzyId, 'processing'); // the worker died right after this call
    const next = await env.call(activities.FetchTransactions);
    expect(next.payouts.map((p) => p.expenzyId)).toEqual(payouts.slice(1).map((p) => p.expenzyId));
    const { rows } = await holviPool.query(
      'SELECT expenzy_uuid FROM holvi_received_payout WHERE processing_confirmed_at IS NOT NULL',
    );
    expect(rows.map((row) => row.expenzy_uuid)).toEqual([payouts[0]!.expenzyId]);
    await env.call(
      activities.MarkProcessing,
      next.payouts.map((p) => p.expenzyId),
    );
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1, 1]);
  });

  it('crash window "inserted, not marked" is repaired by the next pass', async () => {
    const activities = await freshHolvi();
    await createPayouts(2);
    const env = new ActivityEnv();
    const first = await env.call(activities.FetchTransactions);
    await env.call(activities.RecordPayout, first.payouts); // the worker died before MarkProcessing
    const second = await env.call(activities.FetchTransactions);
    expect(second.payouts).toEqual(first.payouts);
    expect(await env.call(activities.RecordPayout, second.payouts)).toEqual({
      inserted: 0,
      alreadyRecorded: 2,
    });
    expect(
      await env.call(
        activities.MarkProcessing,
        second.payouts.map((p) => p.expenzyId),
      ),
    ).toMatchObject({ marked: 2 });
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1]);
  });

  it('QuarantinePayouts leaves transient failures to a later pass and never sets error twice', async () => {
    const activities = await freshHolvi();
    for (let i = 0; i < 8; i++) {
      await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed: 'bad_amount' } });
    }
    const env = new ActivityEnv();
    const fetched = await env.call(activities.FetchTransactions);
    knobs.update({ failureRate: 1 });
    await expect(env.call(activities.QuarantinePayouts, fetched.rejected)).rejects.toThrow(
      /all 8 error updates failed/,
    );
    knobs.update({ failureRate: 0.5 });
    const partial = await new ActivityEnv({ attempt: 2 }).call(
      activities.QuarantinePayouts,
      fetched.rejected,
    );
    expect(partial.setToError + partial.retryLater).toBe(8);
    knobs.update({ failureRate: 0 });
    const later = await env.call(activities.FetchTransactions);
    expect(later.rejected).toHaveLength(partial.retryLater);
    const rest = await env.call(activities.QuarantinePayouts, later.rejected);
    expect(rest.setToError).toBe(partial.retryLater);
    expect((await updateCounts()).map((row) => [row.state, row.state_update_count])).toEqual(
      Array.from({ length: 8 }, () => ['error', 1]),
    );
  });

  it('QuarantinePayouts keeps malformed payouts with their reason and sets them to error once', async () => {
    const activities = await freshHolvi();
    for (const malformed of [
      'bad_amount',
      'long_recipient',
      'bad_timestamp',
      'missing_field',
      'unknown_state',
      'bad_id',
    ]) {
      await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed } });
    }
    await createPayouts(2);
    const env = new ActivityEnv();
    const fetched = await env.call(activities.FetchTransactions);
    expect(fetched.payouts).toHaveLength(2);
    expect(fetched.rejected).toHaveLength(6);
    const result = await env.call(activities.QuarantinePayouts, fetched.rejected);
    expect(result).toEqual({ quarantined: 6, setToError: 5, unsettled: 1, retryLater: 0 });
    const again = await env.call(activities.FetchTransactions);
    expect(again.rejected).toEqual([]); // settled ones are not reported again
    const { rows } = await holviPool.query(
      'SELECT reason, partner_error_set_at IS NOT NULL AS set, partner_error_failure FROM holvi_rejected_payout ORDER BY id',
    );
    expect(rows).toHaveLength(6);
    expect(rows.filter((row) => row.set)).toHaveLength(5);
    expect(rows.find((row) => !row.set)?.partner_error_failure).toMatch(/unknown id/);
    const states = await expenzyPool.query(
      `SELECT state, count(*)::int AS n FROM expenzy_transaction GROUP BY state ORDER BY state`,
    );
    expect(states.rows).toEqual([
      { state: 'error', n: 5 },
      { state: 'notifying', n: 3 },
    ]);
  });
});

describe('partner-call hardening', () => {
  let holvi: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    holvi = await createHolviDatabase();
    pool = new pg.Pool({ connectionString: holvi.appUrl });
  });
  afterAll(async () => {
    await pool.end();
    await holvi.drop();
  });

  it('an oversize list answer fails cleanly with a retryable error', async () => {
    const partnerServer = await startHostilePartner((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      res.write('[');
      pump();
    });
    const expenzy = clientFor(partnerServer.url, { maxResponseBytes: 256 * 1024 });
    const activities = createActivities({ pool, expenzy, batchSize: 10 });
    const error = await new ActivityEnv().call(activities.FetchTransactions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerUnavailableError);
    expect(String(error)).toMatch(/size limit/);
    await expenzy.close();
    await partnerServer.close();
  });

  it('a hanging partner fails cleanly with a retryable error after the call timeout', async () => {
    const partnerServer = await startHostilePartner(() => undefined); // never answers
    const expenzy = clientFor(partnerServer.url, { timeoutMs: 300 });
    const activities = createActivities({ pool, expenzy, batchSize: 10 });
    const started = Date.now();
    const error = await new ActivityEnv().call(activities.FetchTransactions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expenzy.close();
    await partnerServer.close();
  });

  it('sends the API key when configured, and nothing secret otherwise', async () => {
    const partnerServer = await startHostilePartner((_req, res) => res.writeHead(200).end('[]'));
    const withKey = clientFor(partnerServer.url, { apiKey: 'k-123' });
    const withoutKey = clientFor(partnerServer.url);
    await withKey.listTransactions('notifying');
    await withoutKey.listTransactions('notifying');
    expect(partnerServer.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer k-123',
      undefined,
    ]);
    await withKey.close();
    await withoutKey.close();
    await partnerServer.close();
  });

  it('neither confirms nor quarantines a recorded payout the partner now lists malformed', async () => {
    const id = '6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b';
    await pool.query(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       VALUES ($1, now(), '1.00', 'A')`,
      [id],
    );
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const listed = [
        {
          id,
          amount: '1.00x',
          create_time: '2026-11-26T10:00:00Z',
          recipient_account_identifier: 'A',
          state: 'notifying',
        },
      ];
      res.end(req.url?.includes('state=notifying') ? JSON.stringify(listed) : '[]');
    });
    const expenzy = clientFor(partnerServer.url);
    const activities = createActivities({ pool, expenzy, batchSize: 10 });
    const fetched = await new ActivityEnv().call(activities.FetchTransactions);
    expect(fetched.rejected).toEqual([]); // recorded already: a person decides, not the quarantine
    const { rows } = await pool.query(
      'SELECT processing_confirmed_at FROM holvi_received_payout WHERE expenzy_uuid = $1',
      [id],
    );
    expect(rows[0].processing_confirmed_at).toBeNull();
    await expenzy.close();
    await partnerServer.close();
  });

  it('keeps a malformed payout holding U+0000 without breaking the batch', async () => {
    const partnerServer = await startHostilePartner((_req, res) => res.writeHead(200).end('[]'));
    const expenzy = clientFor(partnerServer.url);
    const activities = createActivities({ pool, expenzy, batchSize: 10 });
    const raw = {
      id: 'x\u0000y',
      amount: '1.00',
      create_time: 'bad',
      recipient_account_identifier: 'A\u0000',
      state: 'notifying',
    };
    const result = await new ActivityEnv().call(activities.QuarantinePayouts, [
      { expenzyId: 'x\u0000y', reason: 'bad', raw },
    ]);
    expect(result.quarantined).toBe(1);
    const { rows } = await pool.query(
      `SELECT expenzy_id, raw->>'recipient_account_identifier' AS recipient FROM holvi_rejected_payout WHERE reason = 'bad'`,
    );
    expect(rows).toEqual([{ expenzy_id: 'x\\u0000y', recipient: 'A\\u0000' }]);
    await expenzy.close();
    await partnerServer.close();
  });

  it('a cancelled MarkProcessing attempt stops sending updates', async () => {
    const ids = Array.from(
      { length: 12 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    await pool.query(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       SELECT id, now(), '1.00', 'A' FROM unnest($1::uuid[]) AS id ON CONFLICT DO NOTHING`,
      [ids],
    );
    const partnerServer = await startHostilePartner((req, res) => {
      const id = req.url?.split('/')[3];
      setTimeout(() => res.writeHead(200).end(JSON.stringify([{ id }])), 200);
    });
    const expenzy = clientFor(partnerServer.url, { maxParallelCalls: 2 });
    const activities = createActivities({ pool, expenzy, batchSize: 20 });
    const env = new ActivityEnv();
    const attempt = env.call(activities.MarkProcessing, ids);
    setTimeout(() => env.cancel(), 300);
    await attempt.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(partnerServer.requests.length).toBeLessThanOrEqual(4);
    await expenzy.close();
    await partnerServer.close();
  });

  it('keeps the rejected payouts of one pass far below the payload limit', async () => {
    const big = 'x'.repeat(3_000);
    const listed = Array.from({ length: 500 }, (_, i) => ({ id: `bad-${i}`, amount: '1.00', note: big }));
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('state=notifying') ? JSON.stringify(listed) : '[]');
    });
    const expenzy = clientFor(partnerServer.url, { maxResponseBytes: 8 * 1024 * 1024 });
    const activities = createActivities({ pool, expenzy, batchSize: 500 });
    const fetched = await new ActivityEnv().call(activities.FetchTransactions);
    expect(fetched.rejected.length).toBeGreaterThan(0);
    expect(fetched.rejected.length).toBeLessThan(500);
    expect(JSON.stringify(fetched).length).toBeLessThan(300 * 1024);
    await expenzy.close();
    await partnerServer.close();
  });

  it('does not follow redirects', async () => {
    const partnerServer = await startHostilePartner((_req, res) =>
      res.writeHead(302, { location: 'http://127.0.0.2:1/' }).end(),
    );
    const expenzy = clientFor(partnerServer.url);
    await expect(expenzy.listTransactions('notifying')).rejects.toThrow(/unexpected status 302/);
    expect(partnerServer.requests).toHaveLength(1);
    await expenzy.close();
    await partnerServer.close();
  });

  it('an id with quotes is stored as data, never run as SQL, and escaped in the partner URL', async () => {
    const evilId = `x'); DROP TABLE holvi_received_payout; --`;
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        req.url?.startsWith('/api/transaction/?')
          ? JSON.stringify([
              {
                id: evilId,
                amount: '1.00',
                create_time: '2026-11-26T10:00:00Z',
                recipient_account_identifier: 'A',
                state: 'notifying',
              },
            ])
          : '[]',
      );
    });
    const expenzy = clientFor(partnerServer.url);
    const activities = createActivities({ pool, expenzy, batchSize: 10 });
    const env = new ActivityEnv();
    const fetched = await env.call(activities.FetchTransactions);
    expect(fetched.rejected[0]?.reason).toMatch(/is not a uuid/);
    await env.call(activities.QuarantinePayouts, fetched.rejected);
    const stored = await pool.query('SELECT reason FROM holvi_rejected_payout WHERE expenzy_id = $1', [
      evilId,
    ]);
    expect(stored.rows).toHaveLength(1);
    await expect(pool.query('SELECT count(*) FROM holvi_received_payout')).resolves.toBeDefined();
    expect(partnerServer.requests.at(-1)?.url).toBe(`/api/transaction/${encodeURIComponent(evilId)}/`);
    await expenzy.close();
    await partnerServer.close();
  });
});
