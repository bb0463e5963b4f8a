import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildExpenzyApp } from '../expenzy/app.js';
import { migrateExpenzy } from '../expenzy/db.js';
import { Knobs } from '../expenzy/knobs.js';
import { createActivities } from '../src/activities/index.js';
import { SyncFence } from '../src/fence/sync-fence.js';
import { oldestChunk } from '../src/workflows/pass-chunks.js';
import { createExpenzyClient, type ExpenzyClient } from '../src/partner/expenzy-client.js';
import { PartnerResponseError, PartnerUnavailableError } from '../src/partner/errors.js';
import {
  createExpenzyDatabase,
  createHolviDatabase,
  type TestDatabase,
  testPool,
} from './support/databases.js';
import { ActivityEnv, SYNC_ID, runPass } from './support/activity-pass.js';
import { startHostilePartner } from './support/hostile-partner.js';

type Activities = ReturnType<typeof createActivities>;

const depsFor = (pool: pg.Pool, expenzy: ExpenzyClient, fence: SyncFence, batchSize: number) => ({
  pool,
  expenzy,
  fence,
  batchSize,
  maxParallelCalls: 4,
  syncWorkflowId: SYNC_ID,
});

const clientFor = (baseUrl: string, overrides: Partial<Parameters<typeof createExpenzyClient>[0]> = {}) =>
  createExpenzyClient({
    baseUrl,
    timeoutMs: 2_000,
    listIdleTimeoutMs: 2_000,
    listTimeoutMs: 60_000,
    maxBufferedResponseBytes: 1024 * 1024,
    maxListResponseBytes: 1024 * 1024,
    maxParallelCalls: 4,
    ...overrides,
  });

/** One whole pass, step by step, as the workflow runs it. */
const pass = (activities: Activities) => runPass(activities);

describe('activities against PostgreSQL and the simulator', () => {
  let holvi: TestDatabase;
  let expenzy: TestDatabase;
  let holviPool: pg.Pool;
  let expenzyPool: pg.Pool;
  let knobs: Knobs;
  let simulator: ReturnType<typeof buildExpenzyApp>;
  let partner: ExpenzyClient;
  let fences: SyncFence[] = [];

  beforeAll(async () => {
    expenzy = await createExpenzyDatabase();
    expenzyPool = testPool(expenzy.ownerUrl);
    await migrateExpenzy(expenzyPool);
    knobs = new Knobs({ failureRate: 0 }, { seed: 7 });
    simulator = buildExpenzyApp({ pool: expenzyPool, knobs, adminEnabled: true });
    partner = clientFor(await simulator.listen({ host: '127.0.0.1', port: 0 }));
  });
  afterEach(async () => {
    knobs.update({ failureRate: 0, failAfterCommitRate: 0 });
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

  /** Each test gets its own Holvi database. */
  async function freshHolvi() {
    holvi = await createHolviDatabase();
    holviPool = testPool(holvi.appUrl);
    return activitiesFor();
  }

  /** Another worker process on the same database: its own fence session. */
  function activitiesFor(expenzy: ExpenzyClient = partner, batchSize = 50) {
    const fence = new SyncFence({ connectionString: holvi.appUrl, callTimeoutMs: 300, leaseMs: 200 });
    fences.push(fence);
    return createActivities(depsFor(holviPool, expenzy, fence, batchSize));
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

  const confirmedIds = async () =>
    (
      await holviPool.query<{ expenzy_uuid: string }>(
        'SELECT expenzy_uuid FROM holvi_received_payout WHERE processing_confirmed_at IS NOT NULL ORDER BY expenzy_uuid',
      )
    ).rows.map((row) => row.expenzy_uuid);

  it('one pass lists once, stages, records and marks every payout, oldest first, in chunks', async () => {
    const activities = await freshHolvi();
    await createPayouts(120);
    const { plan, recorded, marked } = await pass(activities);
    expect(plan).toMatchObject({ payouts: 120, payoutSeqEnd: 120, rejected: 0, settle: 0, chunkSize: 50 });
    expect(recorded).toEqual({ inserted: 120, refused: 0 });
    expect(marked.map((m) => m.marked)).toEqual([50, 50, 20]);
    expect(
      (await updateCounts()).every((row) => row.state === 'processing' && row.state_update_count === 1),
    ).toBe(true);
    // The first chunk holds the oldest payouts.
    const { rows } = await holviPool.query<{ first_chunk_oldest: boolean }>(
      `SELECT max(create_time) FILTER (WHERE rank <= 50) <= min(create_time) FILTER (WHERE rank > 50) AS first_chunk_oldest
         FROM (SELECT create_time, rank() OVER (ORDER BY processing_confirmed_at, create_time) AS rank
                 FROM holvi_received_payout) t`,
    );
    expect(rows[0]?.first_chunk_oldest).toBe(true);
  });

  it('RecordPayout is idempotent and keeps amounts and microseconds exact', async () => {
    const activities = await freshHolvi();
    await createPayouts(3);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    expect(await env.call(activities.RecordPayout, plan)).toEqual({ inserted: 3, refused: 0 });
    expect(await env.call(activities.RecordPayout, plan)).toEqual({ inserted: 0, refused: 0 });
    const { rows } = await holviPool.query(
      `SELECT h.expenzy_uuid, h.amount::text AS amount,
              to_char(h.create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS create_time
         FROM holvi_received_payout h ORDER BY h.create_time`,
    );
    const partnerSide = await expenzyPool.query(
      `SELECT id::text AS id, amount::text AS amount,
              to_char(create_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS create_time
         FROM expenzy_transaction ORDER BY create_time`,
    );
    expect(rows.map((row) => [row.expenzy_uuid, row.amount, row.create_time])).toEqual(
      partnerSide.rows.map((row) => [row.id, row.amount, row.create_time]),
    );
  });

  it('MarkProcessing only touches payouts committed in Holvi, and never sends one twice within a list', async () => {
    const activities = await freshHolvi();
    await createPayouts(4);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    const range = oldestChunk(plan, plan.payoutSeqEnd, 0);
    await holviPool.query(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       SELECT expenzy_uuid, create_time::timestamptz, amount::numeric, recipient_account_identifier
         FROM holvi_pass_payout WHERE pass_id = $1 ORDER BY seq LIMIT 2`,
      [plan.passId],
    );
    expect(await env.call(activities.MarkProcessing, range)).toMatchObject({
      marked: 2,
      skipped: 2,
      retryLater: 0,
    });
    await env.call(activities.RecordPayout, plan);
    // A retry of the same range (or a stray attempt) sends nothing the list already sent.
    expect(await new ActivityEnv({ attempt: 2 }).call(activities.MarkProcessing, range)).toMatchObject({
      marked: 2,
      skipped: 2,
    });
    expect(await env.call(activities.MarkProcessing, range)).toMatchObject({ marked: 0, skipped: 4 });
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1, 1, 1]);
  });

  it("MarkProcessing's last chunk sends again, from a new list, what got no verdict; what keeps failing waits for the next pass", async () => {
    const activities = await freshHolvi();
    await createPayouts(10);
    knobs.update({ failureRate: 1 });
    const first = await pass(activities);
    // One round: the new list still shows all ten, sent again, failed again; no progress, so no more rounds.
    expect(first.marked).toEqual([expect.objectContaining({ marked: 0, retryLater: 10, resent: 10 })]);
    expect((await updateCounts()).every((row) => row.state_update_count === 0)).toBe(true);
    knobs.update({ failureRate: 0.5 });
    const second = await pass(activities);
    const { marked, retryLater, resent } = second.marked[0]!;
    expect(marked + retryLater).toBe(10);
    expect(resent).toBeGreaterThan(0);
    expect(await confirmedIds()).toHaveLength(marked);
    expect((await updateCounts()).every((row) => row.state_update_count <= 1)).toBe(true);
    knobs.update({ failureRate: 0 });
    await pass(activities);
    expect(await confirmedIds()).toHaveLength(10);
    expect((await updateCounts()).every((row) => row.state_update_count === 1)).toBe(true);
  });

  /** `count` payouts listed and recorded by one pass's first two steps, in chunks of 50. */
  async function listedAndRecorded(count: number) {
    const activities = await freshHolvi();
    await createPayouts(count);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    await env.call(activities.RecordPayout, plan);
    return { activities, env, plan };
  }

  it("the pass's last chunk sends again the earlier chunks' payouts a new list still shows", async () => {
    const { activities, env, plan } = await listedAndRecorded(60);
    knobs.update({ failureRate: 1 });
    const oldest = await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, 0));
    // Not the pass's last chunk: no rounds (with every call failing, one would have sent 50 again).
    expect(oldest).toMatchObject({ marked: 0, retryLater: 50, resent: 0 });
    knobs.update({ failureRate: 0 });
    const last = await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, 1));
    expect(last).toMatchObject({ marked: 60, retryLater: 0, resent: 50 });
    expect(await confirmedIds()).toHaveLength(60);
    expect((await updateCounts()).every((row) => row.state_update_count === 1)).toBe(true);
  });

  it('more payouts without a verdict than a chunk holds are left to the next pass', async () => {
    const { activities, env, plan } = await listedAndRecorded(120);
    knobs.update({ failureRate: 1 });
    for (const done of [0, 1])
      await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, done));
    knobs.update({ failureRate: 0 });
    const last = await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, 2));
    // 100 waiting, counted up to a chunk and one: no round.
    expect(last).toMatchObject({ marked: 20, retryLater: 51, resent: 0 });
    const next = await pass(activities);
    expect(next.plan.payouts).toBe(100);
    expect(await confirmedIds()).toHaveLength(120);
    expect((await updateCounts()).every((row) => row.state_update_count === 1)).toBe(true);
  });

  it('a lost answer (500 after commit) is settled by the next list, never updated twice', async () => {
    const activities = await freshHolvi();
    await createPayouts(5);
    knobs.update({ failAfterCommitRate: 1 });
    const first = await pass(activities);
    // The round's new list no longer shows them (applied): none is sent again.
    expect(first.marked[0]).toMatchObject({ marked: 0, retryLater: 5, resent: 0 });
    knobs.update({ failAfterCommitRate: 0 });
    const next = await pass(activities);
    expect(next.plan).toMatchObject({ payouts: 0, settle: 5 });
    expect(next.settled).toEqual({ settled: 5, inError: 0 });
    expect(await confirmedIds()).toHaveLength(5);
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1, 1, 1, 1]);
  });

  it('a 503 from a proxy while the update still applies behind it: no new list decides until it landed, never updated twice', async () => {
    await freshHolvi();
    // A proxy in front of the simulator: it gives up on updates at once (503), and the partner
    // behind it applies them a moment later. Lists go through as they are.
    const simulatorUrl = `http://127.0.0.1:${(simulator.server.address() as { port: number }).port}`;
    const forward = (url: string, body: string, type: string | undefined) =>
      fetch(`${simulatorUrl}${url}`, {
        method: 'POST',
        body: body || undefined,
        headers: type ? { 'content-type': type } : {},
      });
    const proxy = await startHostilePartner((req, res) => {
      const request = proxy.requests.at(-1)!;
      if (req.url?.startsWith('/api/transaction/?') || req.url === '/api/transaction/') {
        void forward(request.url, request.body, req.headers['content-type']).then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        });
        return;
      }
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>503 Service Unavailable</html>');
      setTimeout(() => void forward(request.url, request.body, req.headers['content-type']), 100);
    });
    const expenzy = clientFor(proxy.url);
    try {
      const activities = activitiesFor(expenzy);
      await createPayouts(5);
      const first = await pass(activities);
      // Cut short: no round's list decides while the updates may still land.
      expect(first.marked[0]).toMatchObject({ marked: 0, retryLater: 5, resent: 0 });
      const next = await pass(activities);
      expect(next.plan).toMatchObject({ payouts: 0, settle: 5 });
      expect(await confirmedIds()).toHaveLength(5);
      expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      await expenzy.close();
      await proxy.close();
    }
  });

  it('crash window "inserted, not marked" is repaired by the next pass', async () => {
    const activities = await freshHolvi();
    await createPayouts(2);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    await env.call(activities.RecordPayout, plan); // the worker died before MarkProcessing
    const second = await pass(activities);
    expect(second.recorded).toEqual({ inserted: 0, refused: 0 });
    expect(second.marked[0]).toMatchObject({ marked: 2 });
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1, 1]);
  });

  it('a pass whose list is stale (another list was taken since) sends nothing', async () => {
    const activities = await freshHolvi();
    await createPayouts(3);
    const env = new ActivityEnv();
    const stale = await env.call(activities.FetchTransactions, { pass: 1 });
    await env.call(activities.RecordPayout, stale);
    const other = activitiesFor(); // another worker, another run: a newer list
    const fresh = await new ActivityEnv({}, SYNC_ID).call(other.FetchTransactions, { pass: 1 });
    expect(fresh.epoch).toBeGreaterThan(stale.epoch);
    expect(
      await env.call(activities.MarkProcessing, oldestChunk(stale, stale.payoutSeqEnd, 0)),
    ).toMatchObject({
      fenceMoved: true,
      marked: 0,
    });
    expect((await updateCounts()).every((row) => row.state_update_count === 0)).toBe(true);
    await env.call(other.MarkProcessing, oldestChunk(fresh, fresh.payoutSeqEnd, 0));
    expect((await updateCounts()).every((row) => row.state_update_count === 1)).toBe(true);
  });

  it('never settles a row recorded after its list was taken (a stalled fetch around a failed update)', async () => {
    const activities = await freshHolvi();
    const env = new ActivityEnv();
    const stalled = await env.call(activities.FetchTransactions, { pass: 1 }); // lists nothing, then stalls
    const [late] = await createPayouts(1);
    // Meanwhile a newer pass records the new payout, and its update fails before applying.
    knobs.update({ failureRate: 1 });
    await pass(activitiesFor());
    knobs.update({ failureRate: 0 });
    expect(stalled.settle).toBe(0);
    // The stalled attempt's later steps: nothing is settled, nothing sent from its stale list.
    await env.call(activities.RecordPayout, stalled);
    expect(await confirmedIds()).toEqual([]);
    // The next pass lists the payout as still notifying and sends it once.
    const next = await pass(activities);
    expect(next.plan.settle).toBe(0);
    expect(await confirmedIds()).toEqual([late]);
    expect((await updateCounts()).map((row) => row.state_update_count)).toEqual([1]);
  });

  it('refuses a FetchTransactions of a workflow that is not the configured sync', async () => {
    const activities = await freshHolvi();
    await createPayouts(2);
    const error = await new ActivityEnv({}, 'a-stray-sync')
      .call(activities.FetchTransactions, { pass: 1 })
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/configured SYNC_WORKFLOW_ID is "expenzy-sync-test"/);
    expect((error as { type?: string }).type).toBe('StraySyncWorkflow');
    expect((error as { nonRetryable?: boolean }).nonRetryable).toBe(true);
  });

  it("answers the previous version's payout-list inputs without sending anything", async () => {
    const activities = await freshHolvi();
    const ids = await createPayouts(2);
    const env = new ActivityEnv();
    const fetchUnfenced = activities.FetchTransactions as unknown as () => Promise<unknown>;
    const markUnfenced = activities.MarkProcessing as unknown as (ids: string[]) => Promise<unknown>;
    expect(await env.call(fetchUnfenced)).toEqual({ payouts: [], rejected: [], remaining: 0, settled: 0 });
    expect(await env.call(markUnfenced, ids)).toMatchObject({ marked: 0, retryLater: 2 });
    expect((await updateCounts()).every((row) => row.state_update_count === 0)).toBe(true);
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
    const first = await pass(activities);
    expect(first.plan).toMatchObject({ payouts: 2, rejected: 6 });
    expect(first.quarantined).toEqual([
      { quarantined: 6, setToError: 5, unsettled: 1, retryLater: 0, fenceMoved: false },
    ]);
    const again = await pass(activities);
    expect(again.quarantined).toEqual([
      { quarantined: 0, setToError: 0, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    const { rows } = await holviPool.query(
      'SELECT reason, partner_error_set_at IS NOT NULL AS set, partner_error_failure FROM holvi_rejected_payout ORDER BY id',
    );
    expect(rows).toHaveLength(6);
    expect(rows.filter((row) => row.set)).toHaveLength(5);
    expect(rows.find((row) => !row.set)?.partner_error_failure).toMatch(/unknown id/);
    const states = await expenzyPool.query(
      `SELECT state, count(*)::int AS n, max(state_update_count)::int AS max FROM expenzy_transaction GROUP BY state ORDER BY state`,
    );
    expect(states.rows).toEqual([
      { state: 'error', n: 5, max: 1 },
      { state: 'notifying', n: 1, max: 0 }, // bad_id: the partner knows no such id
      { state: 'processing', n: 2, max: 1 },
    ]);
  });

  it('QuarantinePayouts leaves transient failures to a later pass and never sets error twice', async () => {
    const activities = await freshHolvi();
    for (let i = 0; i < 8; i++) {
      await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed: 'bad_amount' } });
    }
    knobs.update({ failureRate: 0.5 });
    const first = await pass(activities);
    expect(first.quarantined[0]!.setToError + first.quarantined[0]!.retryLater).toBe(8);
    knobs.update({ failureRate: 0 });
    const second = await pass(activities);
    expect(second.quarantined[0]!.setToError).toBe(first.quarantined[0]!.retryLater);
    expect((await updateCounts()).map((row) => [row.state, row.state_update_count])).toEqual(
      Array.from({ length: 8 }, () => ['error', 1]),
    );
  });

  // Found by `make soak seed=1 minutes=30` (tools/chaos/README.md, "Soak"): malformed payouts and
  // fail-after-commit at once left quarantined rows without an outcome although the partner
  // held them in `error`.
  it('a lost answer to `error` (500 after commit) is recorded by the next list, never sent again', async () => {
    const activities = await freshHolvi();
    for (let i = 0; i < 4; i++) {
      await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed: 'bad_amount' } });
    }
    knobs.update({ failAfterCommitRate: 1 });
    const first = await pass(activities);
    expect(first.quarantined[0]).toMatchObject({ quarantined: 4, setToError: 0, retryLater: 4 });
    knobs.update({ failAfterCommitRate: 0 });
    const next = await pass(activities);
    expect(next.plan).toMatchObject({ rejected: 0 });
    const { rows } = await holviPool.query(
      'SELECT partner_error_set_at IS NOT NULL AS set, partner_error_failure AS failure FROM holvi_rejected_payout',
    );
    expect(rows).toEqual(Array.from({ length: 4 }, () => ({ set: true, failure: null })));
    expect((await updateCounts()).map((row) => [row.state, row.state_update_count])).toEqual(
      Array.from({ length: 4 }, () => ['error', 1]),
    );
  });

  it('a refusal of `error` that passes (a 404 during a key rotation) is tried again after its backoff, then set', async () => {
    const activities = await freshHolvi();
    for (let i = 0; i < 2; i++) {
      await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed: 'bad_amount' } });
    }
    knobs.update({ refuseUpdates: '404' });
    const refused = await pass(activities);
    expect(refused.quarantined[0]).toMatchObject({ quarantined: 2, setToError: 0, unsettled: 2 });
    knobs.update({ refuseUpdates: 'off' });
    // Within its backoff, a pass lists the payouts again but does not send.
    const backingOff = await pass(activities);
    expect(backingOff.quarantined[0]).toMatchObject({ setToError: 0, unsettled: 0, retryLater: 0 });
    expect((await updateCounts()).map((row) => row.state)).toEqual(['notifying', 'notifying']);
    const { rows: waiting } = await holviPool.query(
      `SELECT partner_error_attempts AS attempts, partner_error_retry_at > clock_timestamp() AS due_later
         FROM holvi_rejected_payout`,
    );
    expect(waiting).toEqual([
      { attempts: 1, due_later: true },
      { attempts: 1, due_later: true },
    ]);
    // The backoff elapses (the clock moved on): the next pass sends again, and the partner accepts.
    await holviPool.query(`UPDATE holvi_rejected_payout SET partner_error_retry_at = clock_timestamp()`);
    const retried = await pass(activities);
    expect(retried.quarantined[0]).toMatchObject({ setToError: 2, unsettled: 0 });
    expect((await updateCounts()).map((row) => [row.state, row.state_update_count])).toEqual([
      ['error', 1],
      ['error', 1],
    ]);
    const { rows } = await holviPool.query(
      `SELECT partner_error_set_at IS NOT NULL AS set, partner_error_failure AS failure FROM holvi_rejected_payout`,
    );
    expect(rows).toEqual([
      { set: true, failure: null },
      { set: true, failure: null },
    ]);
  });

  it('a payout that cannot be addressed (no uuid) is refused for good, never tried again', async () => {
    const activities = await freshHolvi();
    await simulator.inject({ method: 'POST', url: '/admin/payouts', payload: { malformed: 'bad_id' } });
    await pass(activities);
    // However much later: a backoff would have elapsed by now.
    await holviPool.query(
      `UPDATE holvi_rejected_payout SET partner_error_retry_at = clock_timestamp() WHERE partner_error_retry_at IS NOT NULL`,
    );
    const again = await pass(activities);
    expect(again.quarantined[0]).toMatchObject({ unsettled: 0 });
    const { rows } = await holviPool.query(
      'SELECT partner_error_attempts AS attempts, partner_error_retry_at AS retry_at FROM holvi_rejected_payout',
    );
    expect(rows).toEqual([{ attempts: 1, retry_at: null }]);
  });

  it('recorded payouts in `error` at the partner reach a final state: later passes neither list `error` nor look for them', async () => {
    await freshHolvi();
    const states: string[] = [];
    const counting: ExpenzyClient = {
      ...partner,
      forEachListed: (state, ...rest) => {
        states.push(state);
        return partner.forEachListed(state, ...rest);
      },
    };
    const activities = activitiesFor(counting);
    const ids = await createPayouts(6);
    // Recorded by an earlier pass, then set to `error` by the partner before Holvi marked them.
    const inError = ids.slice(0, 3);
    const { rows: theirs } = await expenzyPool.query(
      `UPDATE expenzy_transaction SET state = 'error' WHERE id = ANY($1::uuid[])
       RETURNING id, create_time, amount::text, recipient_account_identifier`,
      [inError],
    );
    for (const row of theirs) {
      await holviPool.query(
        `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
         VALUES ($1, $2, $3, $4)`,
        [row.id, row.create_time, row.amount, row.recipient_account_identifier],
      );
    }
    const first = await pass(activities);
    expect(first.plan.settle).toBe(3);
    expect(first.settled).toEqual({ settled: 0, inError: 3 });
    expect(states.filter((state) => state === 'error')).toHaveLength(1);
    const { rows } = await holviPool.query(
      `SELECT count(*)::int AS n FROM holvi_received_payout
        WHERE partner_error_seen_at IS NOT NULL AND processing_failure LIKE 'the partner lists it in state error%'`,
    );
    expect(rows[0].n).toBe(3);
    // Pass after pass, the ones already final cost nothing: no candidate, no list of `error`.
    for (let round = 0; round < 3; round++) {
      await createPayouts(2);
      const next = await pass(activities);
      expect(next.plan.settle).toBe(0);
    }
    expect(states.filter((state) => state === 'error')).toHaveLength(1);
    expect(states.filter((state) => state === 'notifying').length).toBeGreaterThanOrEqual(4);
  });
});

describe('partner-call hardening', () => {
  let holvi: TestDatabase;
  let pool: pg.Pool;
  const fences: SyncFence[] = [];
  beforeAll(async () => {
    holvi = await createHolviDatabase();
    pool = testPool(holvi.appUrl);
  });
  afterAll(async () => {
    await Promise.all(fences.map((fence) => fence.close()));
    await pool.end();
    await holvi.drop();
  });

  /** A payout recorded in Holvi as RecordPayout would have, without a pass. */
  const recordDirectly = (id: string) =>
    pool.query(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       VALUES ($1, now(), '1.00', 'A')`,
      [id],
    );

  /** `count` valid payouts as the partner lists them, with fixed ids. */
  const notifyingPayouts = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      amount: '1.00',
      create_time: '2026-11-26T10:00:00Z',
      recipient_account_identifier: 'A',
      state: 'notifying',
    }));

  function activitiesWith(expenzy: ExpenzyClient, batchSize = 10) {
    const fence = new SyncFence({ connectionString: holvi.appUrl, callTimeoutMs: 300, leaseMs: 200 });
    fences.push(fence);
    return createActivities(depsFor(pool, expenzy, fence, batchSize));
  }

  it('a list longer than its cap is cut: the pass handles what it read, settles nothing, and says so', async () => {
    // Recorded earlier, unconfirmed, beyond where the list is cut: a whole list would settle it.
    const beyondTheCut = '00000000-0000-4000-8000-999999999999';
    await recordDirectly(beyondTheCut);
    const listed = notifyingPayouts(3_000);
    const partnerServer = await startHostilePartner((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(listed));
    });
    const expenzy = clientFor(partnerServer.url, { maxListResponseBytes: 256 * 1024 });
    const activities = activitiesWith(expenzy);
    const plan = await new ActivityEnv().call(activities.FetchTransactions, { pass: 1 });
    expect(plan.listCut).toBe(true);
    expect(plan.payouts).toBeGreaterThan(500);
    expect(plan.payouts).toBeLessThan(3_000);
    expect(plan.settle).toBe(0);
    const { rows } = await pool.query(`SELECT listed, settle FROM holvi_sync_pass WHERE id = $1`, [
      plan.passId,
    ]);
    expect(rows).toEqual([{ listed: plan.payouts, settle: 0 }]);
    // Out of the way of the next tests' passes (the service role deletes nothing).
    await pool.query(
      'UPDATE holvi_received_payout SET processing_confirmed_at = now() WHERE expenzy_uuid = $1',
      [beyondTheCut],
    );
    await expenzy.close();
    await partnerServer.close();
  });

  it('a hanging partner fails cleanly with a retryable error after the list idle timeout', async () => {
    const partnerServer = await startHostilePartner(() => undefined); // never answers
    const expenzy = clientFor(partnerServer.url, { timeoutMs: 300, listIdleTimeoutMs: 300 });
    const activities = activitiesWith(expenzy);
    const started = Date.now();
    const error = await new ActivityEnv()
      .call(activities.FetchTransactions, { pass: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expenzy.close();
    await partnerServer.close();
  });

  /**
   * One pass of a single chunk against a hostile partner: listed, recorded, marked. Returns what
   * MarkProcessing answered, the list and update calls the partner saw, and whether its release
   * asked the next holder to wait (`quiet`).
   */
  async function markedAgainst(
    answer: Parameters<typeof startHostilePartner>[0],
    clientOptions: Parameters<typeof clientFor>[1] = {},
  ) {
    const partnerServer = await startHostilePartner(answer);
    const expenzy = clientFor(partnerServer.url, clientOptions);
    const activities = activitiesWith(expenzy, 20);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    await env.call(activities.RecordPayout, plan);
    // The fetch's tenure waited out any earlier quiet_until: a later one is MarkProcessing's.
    const before = await pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
    const marked = await env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, 0));
    const fence = await pool.query<{ quiet: boolean }>(
      'SELECT coalesce(quiet_until > $1, false) AS quiet FROM holvi_sync_fence',
      [before.rows[0]!.now],
    );
    const lists = partnerServer.requests.filter((request) => request.url?.includes('?')).length;
    await expenzy.close();
    await partnerServer.close();
    return {
      marked,
      calls: { lists, updates: partnerServer.requests.length - lists },
      quiet: fence.rows[0]!.quiet,
    };
  }

  it('a call cut short (no answer) stops the rounds: it may still land, so no new list decides', async () => {
    const listed = notifyingPayouts(3);
    // Lists answer at once; updates never do.
    const { marked, calls, quiet } = await markedAgainst(
      (req, res) => {
        if (req.url?.includes('?')) res.writeHead(200).end(JSON.stringify(listed));
      },
      { timeoutMs: 300 },
    );
    expect(marked).toMatchObject({ marked: 0, retryLater: 3, resent: 0 });
    expect(calls).toEqual({ lists: 1, updates: 3 });
    expect(quiet).toBe(true);
  });

  it('an update answered 503 (a proxy in front of the partner) counts as cut short: no rounds, the next holder waits', async () => {
    const listed = notifyingPayouts(3);
    const { marked, calls, quiet } = await markedAgainst((req, res) => {
      if (req.url?.includes('?')) return void res.writeHead(200).end(JSON.stringify(listed));
      res.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
    });
    expect(marked).toMatchObject({ marked: 0, retryLater: 3, resent: 0 });
    expect(calls).toEqual({ lists: 1, updates: 3 });
    expect(quiet).toBe(true);
  });

  it("the partner's own 500 ends the call there: a round's new list decides, and the next holder need not wait", async () => {
    const listed = notifyingPayouts(3);
    const { marked, calls, quiet } = await markedAgainst((req, res) => {
      if (req.url?.includes('?')) return void res.writeHead(200).end(JSON.stringify(listed));
      res.writeHead(500).end('{"error": "internal"}');
    });
    expect(marked).toMatchObject({ marked: 0, retryLater: 3, resent: 3 });
    expect(calls).toEqual({ lists: 2, updates: 6 });
    expect(quiet).toBe(false);
  });

  it("a round's list the partner refuses (404) ends the rounds; the pass's payouts wait for the next pass", async () => {
    const listed = notifyingPayouts(3);
    let lists = 0;
    // The pass's list answers; every update fails before applying; the round's list is refused.
    const { marked, calls } = await markedAgainst((req, res) => {
      if (!req.url?.includes('?')) return void res.writeHead(500).end('<html>error</html>');
      lists++;
      if (lists === 1) res.writeHead(200).end(JSON.stringify(listed));
      else res.writeHead(404).end('{"error": "no"}');
    });
    expect(marked).toMatchObject({ marked: 0, retryLater: 3, resent: 0 });
    expect(calls).toEqual({ lists: 2, updates: 3 });
  });

  it('an update answered with the payout in another of its states than asked is not applied', async () => {
    const id = 'b0000000-0000-4000-8000-000000000001';
    let shown: { state?: string } = { state: 'notifying' };
    const partnerServer = await startHostilePartner((_req, res) =>
      res.writeHead(200).end(JSON.stringify([{ id, amount: '1.00', ...shown }])),
    );
    const expenzy = clientFor(partnerServer.url);
    await expect(expenzy.updateState(id, 'processing')).rejects.toThrow(
      /update answer shows payout .* in state "notifying", not "processing"/,
    );
    await expect(expenzy.updateState(id, 'error')).rejects.toBeInstanceOf(PartnerResponseError);
    shown = { state: 'error' };
    await expect(expenzy.updateState(id, 'error')).resolves.toMatchObject({ applied: true });
    // Nothing that contradicts the contract's "the updated payout": taken at its word.
    shown = {};
    await expect(expenzy.updateState(id, 'processing')).resolves.toMatchObject({ applied: true });
    shown = { state: 'pending' }; // how the partner renders a payout of unknown state, whatever its real one
    await expect(expenzy.updateState(id, 'error')).resolves.toMatchObject({ applied: true });
    await expenzy.close();
    await partnerServer.close();
  });

  it('MarkProcessing confirms no payout the answer shows still notifying; a later pass sends it again', async () => {
    const listed = notifyingPayouts(2).map((payout, i) => ({
      ...payout,
      id: `b0000000-0000-4000-8000-00000000001${i}`,
    }));
    const ids = listed.map((payout) => payout.id);
    const answering =
      (state: (req: { url?: string }) => string): Parameters<typeof startHostilePartner>[0] =>
      (req, res) => {
        if (req.url?.includes('?')) return void res.writeHead(200).end(JSON.stringify(listed));
        const id = decodeURIComponent(req.url!.split('/')[3]!);
        res.writeHead(200).end(JSON.stringify([{ ...listed.find((p) => p.id === id), state: state(req) }]));
      };
    const confirmed = async () =>
      (
        await pool.query<{ expenzy_uuid: string; confirmed: boolean; failure: string | null }>(
          `SELECT expenzy_uuid, processing_confirmed_at IS NOT NULL AS confirmed, processing_failure AS failure
             FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[]) ORDER BY expenzy_uuid`,
          [ids],
        )
      ).rows;

    const contradicted = await markedAgainst(answering(() => 'notifying'));
    expect(contradicted.marked).toMatchObject({ marked: 0, refused: 2 });
    expect(await confirmed()).toEqual(
      ids.map((id) => ({
        expenzy_uuid: id,
        confirmed: false,
        failure: expect.stringMatching(/^PartnerResponseError: .*in state "notifying"/),
      })),
    );
    const next = await markedAgainst(answering(() => 'processing'));
    expect(next.marked).toMatchObject({ marked: 2, refused: 0 });
    expect(await confirmed()).toEqual(
      ids.map((id) => ({ expenzy_uuid: id, confirmed: true, failure: null })),
    );
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
    await recordDirectly(id);
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
    const activities = activitiesWith(expenzy);
    const { quarantined } = await pass(activities);
    expect(quarantined).toEqual([
      { quarantined: 0, setToError: 0, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    expect(partnerServer.requests.filter((request) => !request.url?.includes('?'))).toEqual([]);
    const { rows } = await pool.query(
      'SELECT processing_confirmed_at FROM holvi_received_payout WHERE expenzy_uuid = $1',
      [id],
    );
    expect(rows[0].processing_confirmed_at).toBeNull();
    await expenzy.close();
    await partnerServer.close();
  });

  it('quarantines a payout too large to hold, under its id, and records and marks the ones beside it', async () => {
    const payout = (id: string, note = '') => ({
      id,
      amount: '1.00',
      create_time: '2026-11-26T10:00:00Z',
      recipient_account_identifier: 'A',
      state: 'notifying',
      ...(note ? { note } : {}),
    });
    const [before, huge, after] = [
      'a0000000-0000-4000-8000-000000000001',
      'a0000000-0000-4000-8000-000000000002',
      'a0000000-0000-4000-8000-000000000003',
    ];
    const listed = JSON.stringify([payout(before), payout(huge, 'x'.repeat(64 * 1024)), payout(after)]);
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('state=notifying')) return res.end(listed);
      if (req.url?.includes('?')) return res.end('[]');
      const id = decodeURIComponent(req.url!.split('/')[3]!);
      const state = new URLSearchParams(partnerServer.requests.at(-1)!.body).get('state');
      res.end(JSON.stringify([{ ...payout(id), state }]));
    });
    const expenzy = clientFor(partnerServer.url, { maxBufferedResponseBytes: 4 * 1024 });
    const result = await pass(activitiesWith(expenzy));

    expect(result.plan).toMatchObject({ payouts: 2, rejected: 1 });
    expect(result.marked.reduce((sum, chunk) => sum + chunk.marked, 0)).toBe(2);
    expect(result.quarantined).toEqual([
      { quarantined: 1, setToError: 1, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    const updates = partnerServer.requests.filter((request) => !request.url.includes('?'));
    expect(updates.map((request) => [request.url, request.body]).sort()).toEqual([
      [`/api/transaction/${before}/`, 'state=processing'],
      [`/api/transaction/${huge}/`, 'state=error'],
      [`/api/transaction/${after}/`, 'state=processing'],
    ]);
    const { rows } = await pool.query(
      `SELECT reason, raw->'length' AS length, length(raw->>'truncated') AS kept FROM holvi_rejected_payout WHERE expenzy_id = $1`,
      [huge],
    );
    expect(rows).toEqual([
      {
        reason: expect.stringMatching(/^entry of \d+ bytes, more than EXPENZY_MAX_BUFFERED_RESPONSE_BYTES/),
        length: JSON.stringify(payout(huge, 'x'.repeat(64 * 1024))).length,
        kept: 2048,
      },
    ]);
    await expenzy.close();
    await partnerServer.close();
  });

  it('quarantines entries that are not valid JSON, under their id when they have one, and records and marks the ones beside them', async () => {
    const payout = (id: string) =>
      JSON.stringify({
        id,
        amount: '1.00',
        create_time: '2026-11-26T10:00:00Z',
        recipient_account_identifier: 'A',
        state: 'notifying',
      });
    const [before, broken, after] = [
      'a0000000-0000-4000-8000-000000000011',
      'a0000000-0000-4000-8000-000000000012',
      'a0000000-0000-4000-8000-000000000013',
    ];
    const brokenEntry = payout(broken).replace('"1.00"', 'NaN');
    const listed = `[${payout(before)}, NaN, ${brokenEntry}, ${payout(after)}]`;
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.includes('state=notifying')) return res.end(listed);
      if (req.url?.includes('?')) return res.end('[]');
      res.end(JSON.stringify([{ id: decodeURIComponent(req.url!.split('/')[3]!) }]));
    });
    const expenzy = clientFor(partnerServer.url);
    const result = await pass(activitiesWith(expenzy));

    expect(result.plan).toMatchObject({ payouts: 2, rejected: 2 });
    expect(result.recorded).toEqual({ inserted: 2, refused: 0 });
    expect(result.marked.reduce((sum, chunk) => sum + chunk.marked, 0)).toBe(2);
    // The bare NaN has no id to set `error` by: kept, unsettled.
    expect(result.quarantined).toEqual([
      { quarantined: 2, setToError: 1, unsettled: 1, retryLater: 0, fenceMoved: false },
    ]);
    const updates = partnerServer.requests.filter((request) => !request.url.includes('?'));
    expect(updates.map((request) => [request.url, request.body]).sort()).toEqual([
      [`/api/transaction/${before}/`, 'state=processing'],
      [`/api/transaction/${broken}/`, 'state=error'],
      [`/api/transaction/${after}/`, 'state=processing'],
    ]);
    const recorded = await pool.query<{ expenzy_uuid: string }>(
      'SELECT expenzy_uuid FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[]) ORDER BY expenzy_uuid',
      [[before, broken, after]],
    );
    expect(recorded.rows.map((row) => row.expenzy_uuid)).toEqual([before, after]);
    const { rows } = await pool.query(
      `SELECT expenzy_id, reason, raw FROM holvi_rejected_payout
        WHERE expenzy_id = $1 OR raw->>'invalidJson' = 'NaN' ORDER BY expenzy_id NULLS FIRST`,
      [broken],
    );
    expect(rows).toEqual([
      {
        expenzy_id: null,
        reason: expect.stringMatching(/^entry of 3 bytes is not valid JSON: /),
        raw: { invalidJson: 'NaN', length: 3 },
      },
      {
        expenzy_id: broken,
        reason: expect.stringMatching(/^entry of \d+ bytes is not valid JSON: /),
        raw: { invalidJson: brokenEntry, length: brokenEntry.length },
      },
    ]);
    await expenzy.close();
    await partnerServer.close();
  });

  it('never settles a recorded payout the partner lists as an entry too large to hold', async () => {
    const id = '6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4c';
    await recordDirectly(id);
    const listed = JSON.stringify([{ note: 'x'.repeat(64 * 1024), id, state: 'notifying' }]);
    const partnerServer = await startHostilePartner((req, res) =>
      res.writeHead(200).end(req.url?.includes('state=notifying') ? listed : '[]'),
    );
    const expenzy = clientFor(partnerServer.url, { maxBufferedResponseBytes: 4 * 1024 });
    const result = await pass(activitiesWith(expenzy));
    // Listed, so not proven applied: neither settled, nor set to `error` (its money is recorded).
    expect(result.plan.settle).toBe(0);
    expect(result.quarantined).toEqual([
      { quarantined: 0, setToError: 0, unsettled: 0, retryLater: 0, fenceMoved: false },
    ]);
    expect(partnerServer.requests.filter((request) => !request.url.includes('?'))).toEqual([]);
    const { rows } = await pool.query(
      'SELECT processing_confirmed_at FROM holvi_received_payout WHERE expenzy_uuid = $1',
      [id],
    );
    expect(rows[0].processing_confirmed_at).toBeNull();
    await expenzy.close();
    await partnerServer.close();
  });

  it('keeps a malformed payout holding U+0000 without breaking the batch', async () => {
    const listed = `[{"id":"x\\u0000y","amount":"1.00","create_time":"bad","recipient_account_identifier":"A\\u0000","state":"notifying"}]`;
    const partnerServer = await startHostilePartner((req, res) =>
      res.writeHead(200).end(req.url?.includes('state=notifying') ? listed : '[]'),
    );
    const expenzy = clientFor(partnerServer.url);
    const { quarantined } = await pass(activitiesWith(expenzy));
    expect(quarantined[0]?.quarantined).toBe(1);
    const { rows } = await pool.query(
      `SELECT expenzy_id, raw->>'recipient_account_identifier' AS recipient FROM holvi_rejected_payout WHERE expenzy_id LIKE 'x%'`,
    );
    expect(rows).toEqual([{ expenzy_id: 'x\\u0000y', recipient: 'A\\u0000' }]);
    await expenzy.close();
    await partnerServer.close();
  });

  it('a cancelled MarkProcessing attempt stops sending updates, and its successor waits out its calls', async () => {
    const listed = notifyingPayouts(12);
    const partnerServer = await startHostilePartner((req, res) => {
      if (req.url?.includes('?')) return void res.writeHead(200).end(JSON.stringify(listed));
      const id = req.url?.split('/')[3];
      setTimeout(() => res.writeHead(200).end(JSON.stringify([{ id }])), 200);
    });
    const expenzy = clientFor(partnerServer.url, { maxParallelCalls: 2 });
    const activities = activitiesWith(expenzy, 20);
    const env = new ActivityEnv();
    const plan = await env.call(activities.FetchTransactions, { pass: 1 });
    await env.call(activities.RecordPayout, plan);
    const attempt = env.call(activities.MarkProcessing, oldestChunk(plan, plan.payoutSeqEnd, 0));
    setTimeout(() => env.cancel(), 300);
    await attempt.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const updates = () => partnerServer.requests.filter((request) => !request.url?.includes('?')).length;
    expect(updates()).toBeLessThanOrEqual(4);
    // Its calls were cut short: the next holder is asked to wait before it lists.
    const { rows } = await pool.query<{ quiet: boolean }>(
      "SELECT quiet_until > clock_timestamp() - interval '1 minute' AS quiet FROM holvi_sync_fence",
    );
    expect(rows[0]?.quiet).toBe(true);
    await expenzy.close();
    await partnerServer.close();
  });

  it("keeps every step's payload small, whatever the partner lists", async () => {
    const big = 'x'.repeat(3_000);
    const listed = Array.from({ length: 500 }, (_, i) => ({ id: `bad-${i}`, amount: '1.00', note: big }));
    const partnerServer = await startHostilePartner((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('state=notifying') ? JSON.stringify(listed) : '[]');
    });
    const expenzy = clientFor(partnerServer.url, { maxListResponseBytes: 8 * 1024 * 1024 });
    const result = await pass(activitiesWith(expenzy, 500));
    expect(result.plan.rejected).toBe(500);
    expect(JSON.stringify(result).length).toBeLessThan(2 * 1024);
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
    await pass(activitiesWith(expenzy));
    const stored = await pool.query('SELECT reason FROM holvi_rejected_payout WHERE expenzy_id = $1', [
      evilId,
    ]);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0].reason).toMatch(/is not a uuid/);
    await expect(pool.query('SELECT count(*) FROM holvi_received_payout')).resolves.toBeDefined();
    expect(partnerServer.requests.at(-1)?.url).toBe(`/api/transaction/${encodeURIComponent(evilId)}/`);
    await expenzy.close();
    await partnerServer.close();
  });
});
