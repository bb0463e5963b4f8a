import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildExpenzyApp } from '../expenzy/app.js';
import { migrateExpenzy } from '../expenzy/db.js';
import { Knobs, poisonKinds, type PayoutDefect } from '../expenzy/knobs.js';
import { createActivities } from '../src/activities/index.js';
import { jsonbText } from '../src/db/pg-text.js';
import { SyncFence } from '../src/fence/sync-fence.js';
import { createExpenzyClient, type ExpenzyClient } from '../src/partner/expenzy-client.js';
import { buildReport, type Report } from '../tools/report/index.js';
import { SYNC_ID, runPass } from './support/activity-pass.js';
import {
  createExpenzyDatabase,
  createHolviDatabase,
  testPool,
  type TestDatabase,
} from './support/databases.js';
import { startHostilePartner } from './support/hostile-partner.js';
import { startSyncStack, type SyncStack } from './support/sync-stack.js';

// Poison payouts: values a lax parser would take and PostgreSQL refuses to store. Each is
// quarantined, and the valid payouts listed beside it are recorded and marked `processing`
// exactly once in the same pass; a value the parser lets through and PostgreSQL refuses costs
// only its own row.

const clientFor = (baseUrl: string) =>
  createExpenzyClient({
    baseUrl,
    timeoutMs: 2_000,
    listIdleTimeoutMs: 2_000,
    listTimeoutMs: 60_000,
    maxBufferedResponseBytes: 1024 * 1024,
    maxListResponseBytes: 1024 * 1024,
    maxParallelCalls: 4,
  });

const notOk = (report: Report) =>
  report.checks
    .filter((check) => check.status !== 'OK')
    .map((check) => [check.key, check.status, check.figure]);

/** Why each poison kind is refused, as the parser says it. */
const reasons: Record<(typeof poisonKinds)[number], RegExp> = {
  nul_recipient: /^recipient_account_identifier holds U\+0000 \(PostgreSQL cannot store it\)$/,
  nul_id: /^id holds U\+0000/,
  lone_surrogate: /^recipient_account_identifier holds a lone surrogate U\+D800 \(not Unicode text\)$/,
  year_10000: /^create_time "9999-12-31T23:59:59-01:00" is in the year 10000 in UTC/,
  huge_amount: /^amount "100000000000000.00" is not a positive amount/,
};

const sum = (results: { marked: number }[]) => results.reduce((total, result) => total + result.marked, 0);

describe('poison payouts through the activities, on PostgreSQL and the simulator', () => {
  let holvi: TestDatabase;
  let expenzy: TestDatabase;
  let holviPool: pg.Pool;
  let expenzyPool: pg.Pool;
  let simulator: ReturnType<typeof buildExpenzyApp>;
  let partner: ExpenzyClient;
  let fences: SyncFence[] = [];

  beforeAll(async () => {
    expenzy = await createExpenzyDatabase();
    expenzyPool = testPool(expenzy.ownerUrl);
    await migrateExpenzy(expenzyPool);
    simulator = buildExpenzyApp({
      pool: expenzyPool,
      knobs: new Knobs({ failureRate: 0 }, { seed: 11 }),
      adminEnabled: true,
    });
    partner = clientFor(await simulator.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterEach(async () => {
    await expenzyPool.query('TRUNCATE expenzy_transaction');
    await Promise.all(fences.map((fence) => fence.close()));
    fences = [];
    await holviPool.end();
    await holvi.drop();
  });
  afterAll(async () => {
    await partner.close();
    await simulator.close();
    await expenzyPool.end();
    await expenzy.drop();
  });

  async function freshHolvi() {
    holvi = await createHolviDatabase();
    holviPool = testPool(holvi.appUrl);
    const fence = new SyncFence({ connectionString: holvi.appUrl, callTimeoutMs: 300, leaseMs: 200 });
    fences.push(fence);
    return createActivities({
      pool: holviPool,
      expenzy: partner,
      fence,
      batchSize: 50,
      maxParallelCalls: 4,
      syncWorkflowId: SYNC_ID,
    });
  }

  async function createPayouts(count: number, malformed: PayoutDefect | null = null): Promise<string[]> {
    const response = await simulator.inject({
      method: 'POST',
      url: '/admin/payouts',
      payload: { count, malformed },
    });
    expect(response.statusCode).toBe(200);
    return response.json<{ id: string }[]>().map((payout) => payout.id);
  }

  const partnerStates = async () =>
    (
      await expenzyPool.query<{ id: string; state: string; updates: number; kind: string | null }>(
        'SELECT id::text, state, state_update_count AS updates, malformed_kind AS kind FROM expenzy_transaction',
      )
    ).rows;

  it('quarantines each kind while the valid payouts beside it are recorded and marked exactly once, in the same pass', async () => {
    const activities = await freshHolvi();
    const valid = await createPayouts(5);
    for (const kind of poisonKinds) await createPayouts(1, kind);
    valid.push(...(await createPayouts(5)));

    const first = await runPass(activities);
    expect(first.plan).toMatchObject({ payouts: 10, rejected: poisonKinds.length });
    expect(first.recorded).toEqual({ inserted: 10, refused: 0 });
    expect(sum(first.marked)).toBe(10);
    // nul_id: the partner knows no payout by the id it listed, so it cannot be set to error.
    expect(first.quarantined).toEqual([
      {
        quarantined: poisonKinds.length,
        setToError: poisonKinds.length - 1,
        unsettled: 1,
        retryLater: 0,
        fenceMoved: false,
      },
    ]);

    const { rows: kept } = await holviPool.query<{ reason: string }>(
      'SELECT reason FROM holvi_rejected_payout',
    );
    for (const kind of poisonKinds)
      expect(
        kept.filter((row) => reasons[kind].test(row.reason)),
        kind,
      ).toHaveLength(1);
    const received = await holviPool.query<{ id: string; confirmed: boolean }>(
      'SELECT expenzy_uuid::text AS id, processing_confirmed_at IS NOT NULL AS confirmed FROM holvi_received_payout ORDER BY id',
    );
    expect(received.rows).toEqual([...valid].sort().map((id) => ({ id, confirmed: true })));

    const states = await partnerStates();
    expect(states.filter((row) => row.kind === null).map((row) => [row.state, row.updates])).toEqual(
      valid.map(() => ['processing', 1]),
    );
    expect(
      Object.fromEntries(
        states.filter((row) => row.kind !== null).map((row) => [row.kind, [row.state, row.updates]]),
      ),
    ).toEqual({
      nul_recipient: ['error', 1],
      nul_id: ['notifying', 0],
      lone_surrogate: ['error', 1],
      year_10000: ['error', 1],
      huge_amount: ['error', 1],
    });

    // The next pass finds nothing to record or mark again, and quarantines nothing twice.
    const second = await runPass(activities);
    expect(second.plan).toMatchObject({ payouts: 0, rejected: 1 });
    expect(second.quarantined[0]).toMatchObject({ quarantined: 0, setToError: 0 });
    const report = await buildReport({ holviPool, expenzyPool });
    // nul_id: listed under an id that is no uuid, it cannot be addressed; Holvi knows it too.
    expect(notOk(report)).toEqual([
      ['quarantinedUnsettled', 'WARN', 1],
      ['quarantineRefusedForGood', 'WARN', 1],
    ]);
    expect(report.updates.max).toBe(1);
    expect(report.holviRows).toBe(10);
  });

  it('a payout PostgreSQL refuses to record is kept with its reason, the rest of its batch is recorded and marked, and later passes set it to error, never processing', async () => {
    const activities = await freshHolvi();
    const ids = await createPayouts(6);
    const [late, huge] = [ids[1]!, ids[4]!];

    // Values the parser let through and PostgreSQL refuses: the year 10000 as toISOString()
    // writes it (what the parser once produced from an offset past 9999), and a 15-digit amount.
    const first = await runPass(activities, async (plan) => {
      await holviPool.query(
        `UPDATE holvi_pass_payout SET create_time = '+010000-01-01T00:59:59.000000Z' WHERE pass_id = $1 AND expenzy_uuid = $2`,
        [plan.passId, late],
      );
      await holviPool.query(
        `UPDATE holvi_pass_payout SET amount = '100000000000000.00' WHERE pass_id = $1 AND expenzy_uuid = $2`,
        [plan.passId, huge],
      );
    });
    expect(first.recorded).toEqual({ inserted: 4, refused: 2 });
    expect(sum(first.marked)).toBe(4);

    const kept = async () =>
      (
        await holviPool.query<{ id: string; reason: string; error_set: boolean }>(
          `SELECT refused_uuid::text AS id, reason, partner_error_set_at IS NOT NULL AS error_set
             FROM holvi_rejected_payout ORDER BY (refused_uuid = $1) DESC`,
          [late],
        )
      ).rows;
    expect(await kept()).toEqual([
      {
        id: late,
        reason: expect.stringMatching(
          /^PostgreSQL refused to record it \(SQLSTATE 22\w{3}\): .*"\+010000-01-01T00:59:59.000000Z"$/,
        ),
        error_set: false,
      },
      {
        id: huge,
        reason: expect.stringMatching(
          /^PostgreSQL refused to record it \(SQLSTATE 22003\): numeric field overflow/,
        ),
        error_set: false,
      },
    ]);
    const byId = async () =>
      new Map((await partnerStates()).map((row) => [row.id, [row.state, row.updates]]));
    let states = await byId();
    expect([states.get(late), states.get(huge)]).toEqual([
      ['notifying', 0],
      ['notifying', 0],
    ]);

    // The partner still lists both as valid: they are staged as malformed and set to error.
    const second = await runPass(activities);
    expect(second.plan).toMatchObject({ payouts: 0, rejected: 2 });
    expect(second.recorded).toEqual({ inserted: 0, refused: 0 });
    expect(second.quarantined).toEqual([
      { quarantined: 0, setToError: 2, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    expect((await kept()).map((row) => row.error_set)).toEqual([true, true]);

    const third = await runPass(activities);
    expect(third.plan).toMatchObject({ payouts: 0, rejected: 0 });
    states = await byId();
    expect(ids.map((id) => states.get(id))).toEqual(
      ids.map((id) => (id === late || id === huge ? ['error', 1] : ['processing', 1])),
    );
    const { rows } = await holviPool.query('SELECT count(*)::int AS n FROM holvi_received_payout');
    expect(rows[0].n).toBe(4);
  });

  it('QuarantinePayouts keeps raw JSON that jsonb refuses as a string, and the rest of its batch as it is', async () => {
    const activities = await freshHolvi();
    await createPayouts(3, 'bad_amount');
    const first = await runPass(activities, async (plan) => {
      // What jsonbSafe() once staged for a lone surrogate: the escape jsonb refuses.
      await holviPool.query(`UPDATE holvi_pass_rejected SET raw_json = $2 WHERE pass_id = $1 AND seq = 1`, [
        plan.passId,
        '{"recipient_account_identifier": "A\\ud800"}',
      ]);
    });
    expect(first.quarantined).toEqual([
      { quarantined: 3, setToError: 3, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    const { rows } = await holviPool.query<{ type: string; text: string; reason: string }>(
      `SELECT jsonb_typeof(raw) AS type, raw #>> '{}' AS text, reason FROM holvi_rejected_payout ORDER BY jsonb_typeof(raw) DESC`,
    );
    expect(rows.map((row) => row.type)).toEqual(['string', 'object', 'object']);
    expect(rows[0]).toEqual({
      type: 'string',
      text: '{"recipient_account_identifier": "A\\ud800"}',
      reason: expect.stringMatching(
        /^amount .*; PostgreSQL refused its raw JSON as jsonb, kept as a string \(SQLSTATE 22P0\d\)/,
      ),
    });
    expect((await partnerStates()).map((row) => [row.state, row.updates])).toEqual([
      ['error', 1],
      ['error', 1],
      ['error', 1],
    ]);
  });
});

describe('values at the edges, from a hostile partner', () => {
  let holvi: TestDatabase;
  let pool: pg.Pool;
  let fence: SyncFence;
  beforeAll(async () => {
    holvi = await createHolviDatabase();
    pool = testPool(holvi.appUrl);
    fence = new SyncFence({ connectionString: holvi.appUrl, callTimeoutMs: 300, leaseMs: 200 });
  });
  afterAll(async () => {
    await fence.close();
    await pool.end();
    await holvi.drop();
  });

  const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const payout = (n: number, fields: object) =>
    JSON.stringify({
      id: uuid(n),
      amount: '1.00',
      create_time: '2026-11-26T10:00:00Z',
      recipient_account_identifier: 'FI00',
      state: 'notifying',
      ...fields,
    });

  // Stored exactly (UTC, microseconds; amount; recipient), or refused by the parser.
  const accepted: [number, object, [string, string, string]][] = [
    [
      1,
      { create_time: '0001-01-01T00:00:00Z', amount: '0.01' },
      ['0001-01-01T00:00:00.000000', '0.01', 'FI00'],
    ],
    [2, { create_time: '0050-06-15T12:00:00.5+00:00' }, ['0050-06-15T12:00:00.500000', '1.00', 'FI00']],
    [3, { create_time: '9999-12-31T23:59:59.999999Z' }, ['9999-12-31T23:59:59.999999', '1.00', 'FI00']],
    [4, { create_time: '0000-12-31T23:30:00-01:00' }, ['0001-01-01T00:30:00.000000', '1.00', 'FI00']],
    [5, { create_time: 'Fri, 31 Dec 9999 23:59:59 GMT' }, ['9999-12-31T23:59:59.000000', '1.00', 'FI00']],
    [6, { amount: '99999999999999.99' }, ['2026-11-26T10:00:00.000000', '99999999999999.99', 'FI00']],
    [7, { amount: 9999999999999.99 }, ['2026-11-26T10:00:00.000000', '9999999999999.99', 'FI00']],
    [
      8,
      { recipient_account_identifier: 'FI\u{1f600}' + '1'.repeat(16) },
      ['2026-11-26T10:00:00.000000', '1.00', 'FI\u{1f600}' + '1'.repeat(16)],
    ],
  ];
  // Raw JSON text: the escapes are the partner's.
  const refused: [number, string, RegExp][] = [
    [11, payout(11, { create_time: '9999-12-31T23:59:59-01:00' }), /year 10000 in UTC/],
    [12, payout(12, { create_time: '0001-01-01T00:59:59+01:00' }), /year 0 in UTC/],
    [13, payout(13, { amount: '100000000000000.00' }), /^amount/],
    [
      14,
      payout(14, { recipient_account_identifier: 'A\u0000' }),
      /^recipient_account_identifier holds U\+0000/,
    ],
    [
      15,
      payout(15, { recipient_account_identifier: 'A\ud800' }),
      /^recipient_account_identifier holds a lone surrogate/,
    ],
    [16, payout(16, { '\u0000': 1 }), /^a field name "\\u0000" holds U\+0000/],
    [
      17,
      payout(17, { meta: { '\udc00': ['\ud800'] } }),
      /^a field name .* in meta holds a lone surrogate U\+DC00/,
    ],
    [18, payout(18, { note: ['ok', 'x\u0000'] }), /^note\[1\] holds U\+0000/],
  ];

  it('records what the parser accepts at the edges exactly, quarantines what lies past them, and marks each once', async () => {
    const listed = `[${[...accepted.map(([n, fields]) => payout(n, fields)), ...refused.map(([, text]) => text)].join(',')}]`;
    expect(listed).toContain('\\u0000'); // JSON.stringify wrote the partner's escapes
    const partnerServer = await startHostilePartner((req, res) => {
      const match = /^\/api\/transaction\/([^/?]+)\/$/.exec(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!match) return res.end(req.url?.includes('state=notifying') ? listed : '[]');
      const id = decodeURIComponent(match[1]!);
      return res.end(/^[0-9a-f-]{36}$/.test(id) ? JSON.stringify([{ id }]) : '[]');
    });
    const expenzy = clientFor(partnerServer.url);
    try {
      const activities = createActivities({
        pool,
        expenzy,
        fence,
        batchSize: 50,
        maxParallelCalls: 4,
        syncWorkflowId: SYNC_ID,
      });
      const { plan, recorded, marked, quarantined } = await runPass(activities);
      expect(plan).toMatchObject({ payouts: accepted.length, rejected: refused.length });
      expect(recorded).toEqual({ inserted: accepted.length, refused: 0 });
      expect(sum(marked)).toBe(accepted.length);
      expect(quarantined[0]).toMatchObject({ quarantined: refused.length, setToError: refused.length });

      const { rows } = await pool.query<{ id: string; t: string; amount: string; recipient: string }>(
        `SELECT expenzy_uuid::text AS id, to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS t,
                amount::text AS amount, recipient_account_identifier AS recipient
           FROM holvi_received_payout ORDER BY expenzy_uuid`,
      );
      expect(rows.map((row) => [row.id, [row.t, row.amount, row.recipient]])).toEqual(
        accepted.map(([n, , stored]) => [uuid(n), stored]),
      );
      const kept = await pool.query<{ id: string; reason: string }>(
        'SELECT expenzy_id AS id, reason FROM holvi_rejected_payout ORDER BY expenzy_id',
      );
      expect(kept.rows.map((row) => row.id)).toEqual(refused.map(([n]) => uuid(n)));
      kept.rows.forEach((row, index) => expect(row.reason).toMatch(refused[index]![2]));

      // One update per payout: processing for the valid ones, error for the others.
      const updates = partnerServer.requests
        .filter((request) => !request.url.includes('?'))
        .map((request) => [request.url.split('/')[3], request.body])
        .sort();
      expect(updates).toEqual(
        [
          ...accepted.map(([n]) => [uuid(n), 'state=processing']),
          ...refused.map(([n]) => [uuid(n), 'state=error']),
        ].sort(),
      );
    } finally {
      await expenzy.close();
      await partnerServer.close();
    }
  });

  it('stores raw JSON with U+0000 and lone surrogates anywhere as jsonb, where JSON.stringify alone is refused', async () => {
    const values: unknown[] = [
      { 'k\u0000': ['\ud800', { '\udfff x': '\u0000' }], fine: '\u{1f600}' },
      ['\u0000', '\udbff'],
      'a lone \ud83d at the end \ud83d',
    ];
    for (const value of values) {
      await expect(pool.query('SELECT $1::jsonb', [JSON.stringify(value)])).rejects.toMatchObject({
        code: expect.stringMatching(/^22/),
      });
      const { rows } = await pool.query<{ j: unknown }>('SELECT $1::jsonb AS j', [jsonbText(value)]);
      expect(rows[0]!.j).toEqual(JSON.parse(jsonbText(value)));
    }
  });
});

describe('poison payouts through the whole sync, on Temporal', () => {
  let stack: SyncStack;
  beforeAll(async () => {
    stack = await startSyncStack({ worker: false, env: { RECONCILE_INTERVAL: '2s' } });
  });
  afterAll(async () => stack?.stop());

  it('quarantines each kind injected through the simulator while the 60 valid payouts beside them are recorded and marked once, in the pass that listed them', async () => {
    await stack.createPayouts(30);
    for (const malformed of poisonKinds) await stack.createPayouts(1, { malformed });
    await stack.createPayouts(30);
    await stack.startWorker();
    expect(await stack.webhook()).toBe(200);

    const report = await stack.waitUntil(
      (r) =>
        r.holviRows === 60 &&
        r.expenzy.processing === 60 &&
        r.problems.notConfirmed.count === 0 &&
        r.quarantined === poisonKinds.length - 1 &&
        r.quarantinedUnsettled.count === 1 &&
        r.quarantineRefusedForGood.count === 1,
      30_000,
    );
    // nul_id: the partner knows no payout by the id it listed; it stays notifying, quarantined here,
    // and refused for good (no uuid to address it by).
    expect(notOk(report)).toEqual([
      ['quarantinedUnsettled', 'WARN', 1],
      ['quarantineRefusedForGood', 'WARN', 1],
    ]);
    expect(report.updates.max).toBe(1);
    expect(report.quarantined).toBe(poisonKinds.length - 1);

    // The first list held everything and was handled whole: no later list shows a valid payout.
    const { rows } = await stack.holviPool.query<{ payouts: number; rejected: number }>(
      'SELECT payouts, rejected FROM holvi_sync_pass WHERE listed_at IS NOT NULL ORDER BY id',
    );
    expect(rows[0]).toEqual({ payouts: 60, rejected: poisonKinds.length });
    for (const later of rows.slice(1)) expect(later).toEqual({ payouts: 0, rejected: 1 });
    const status = await stack.status();
    expect(status).toMatchObject({ recorded: 60, marked: 60, rejected: poisonKinds.length });
  });
});
