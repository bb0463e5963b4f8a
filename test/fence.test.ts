import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FenceLostError,
  FenceSessionError,
  SyncFence,
  type SyncFenceOptions,
  type Tenure,
} from '../src/fence/sync-fence.js';
import { createHolviDatabase, type TestDatabase } from './support/databases.js';

/** The fence on real PostgreSQL: two SyncFence objects behave as two worker processes. */
describe('the fence', () => {
  let holvi: TestDatabase;
  let owner: pg.Pool;
  const fences: SyncFence[] = [];
  const callTimeoutMs = 300;
  const leaseMs = 200;

  beforeAll(async () => {
    holvi = await createHolviDatabase();
    owner = new pg.Pool({ connectionString: holvi.ownerUrl });
  });
  afterEach(async () => {
    await Promise.all(fences.splice(0).map((fence) => fence.close()));
    await owner.query(
      `UPDATE holvi_sync_fence SET holder = NULL, acquired_at = NULL, released_at = NULL, quiet_until = NULL,
              send_window_ms = NULL`,
    );
  });
  afterAll(async () => {
    await owner.end();
    await holvi.drop();
  });

  const events = () => ({ waited: vi.fn(), uncleanHandover: vi.fn(), lost: vi.fn() });
  const fence = (fenceEvents = events(), options: Partial<SyncFenceOptions> = {}) => {
    const created = new SyncFence({
      connectionString: holvi.appUrl,
      callTimeoutMs,
      leaseMs,
      events: fenceEvents,
      ...options,
    });
    fences.push(created);
    return created;
  };
  type LogFn = (message: string, meta?: Record<string, unknown>) => void;
  const quietLog = () => ({ info: vi.fn<LogFn>(), warn: vi.fn<LogFn>() });
  const fenceSessions = async () =>
    (
      await owner.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = 'expenzy-sync fence' AND datname = current_database()`,
      )
    ).rows.map((row) => row.pid);

  it('lets one holder in at a time; a waiter backs off (metric) and gets in once the holder releases', async () => {
    const a = fence();
    const bEvents = events();
    const b = fence(bEvents);
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = a.hold(
      'a',
      async () => {
        order.push('a in');
        await held;
        order.push('a out');
      },
      { log: quietLog() },
    );
    await vi.waitUntil(() => order.length === 1);
    const second = b.hold('b', async () => void order.push('b in'), { log: quietLog() });
    await vi.waitUntil(() => bEvents.waited.mock.calls.length >= 2);
    expect(order).toEqual(['a in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['a in', 'a out', 'b in']);
    expect(bEvents.uncleanHandover).not.toHaveBeenCalled();
  });

  it('serializes holders within one process too (the advisory lock is re-entrant per session)', async () => {
    const a = fence();
    let inside = 0;
    let most = 0;
    const work = async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
    };
    await Promise.all([1, 2, 3].map((n) => a.hold(`a${n}`, work, { log: quietLog() })));
    expect(most).toBe(1);
  });

  it('a holder whose session is cut stops at once; the next holder waits out its calls before anything', async () => {
    const aEvents = events();
    const a = fence(aEvents);
    let tenure!: Tenure;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = a.hold(
      'a',
      async (t) => {
        tenure = t;
        await held;
        await t.assertHeld();
      },
      { log: quietLog() },
    );
    await vi.waitUntil(() => tenure !== undefined);
    await tenure.assertHeld();
    const [pid] = await fenceSessions();
    await owner.query('SELECT pg_terminate_backend($1)', [pid]);
    await vi.waitUntil(() => tenure.signal.aborted);
    expect(tenure.signal.reason).toBeInstanceOf(FenceLostError);
    release();
    await expect(first).rejects.toBeInstanceOf(FenceLostError);
    expect(aEvents.lost).toHaveBeenCalledTimes(1);

    const bEvents = events();
    const log = quietLog();
    await fence(bEvents).hold('b', async () => undefined, { log });
    expect(bEvents.uncleanHandover).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringMatching(/waiting out calls of the previous holder/),
      expect.objectContaining({ previousHolder: 'a', unclean: true, waitMs: expect.any(Number) }),
    );
    const [, meta] = log.warn.mock.calls[0]!;
    expect((meta as { waitMs: number }).waitMs).toBeGreaterThan(leaseMs + callTimeoutMs - 50);
    expect((meta as { waitMs: number }).waitMs).toBeLessThanOrEqual(leaseMs + callTimeoutMs);
  });

  it('a holder killed outright frees the fence (its session ends); the next one waits out its calls', async () => {
    // A worker SIGKILLed: PostgreSQL sees its connection close. Simulated by ending the socket.
    const a = fence();
    let session!: pg.ClientBase;
    const first = a.hold(
      'a',
      async (t) => {
        session = t.session;
        (session as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
      { log: quietLog() },
    );
    await first.catch(() => undefined);
    const bEvents = events();
    await fence(bEvents).hold('b', async () => undefined, { log: quietLog() });
    expect(bEvents.uncleanHandover).toHaveBeenCalledTimes(1);
  });

  it('a clean holder whose calls were cut short asks the next to wait; a plain clean release does not', async () => {
    const a = fence();
    await a.hold('a', async (t) => t.callsCutShort(), { log: quietLog() });
    const log = quietLog();
    await fence().hold('b', async () => undefined, { log });
    expect(log.warn).toHaveBeenCalledWith(
      expect.any(String),
      expect.objectContaining({ previousHolder: 'a', unclean: false }),
    );
    const quiet = quietLog();
    await fence().hold('c', async () => undefined, { log: quiet });
    await fence().hold('d', async () => undefined, { log: quiet });
    expect(
      quiet.warn.mock.calls.filter(
        ([, meta]) => (meta as { previousHolder?: string }).previousHolder === 'c',
      ),
    ).toEqual([]);
  });

  it('stops waiting when the waiting activity is cancelled', async () => {
    const a = fence();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const first = a.hold(
      'a',
      async () => {
        entered = true;
        await held;
      },
      { log: quietLog() },
    );
    await vi.waitUntil(() => entered);
    const cancel = new AbortController();
    const waiting = fence().hold('b', async () => 'never', { log: quietLog(), cancelled: cancel.signal });
    cancel.abort();
    await expect(waiting).rejects.toBeInstanceOf(FenceLostError);
    release();
    await first;
  });
  /** A holder whose session the server ends while it holds the fence (its host died mid-call). */
  const killHolder = async (holderFence: SyncFence, name: string) => {
    let tenure!: Tenure;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = holderFence.hold(
      name,
      async (t) => {
        tenure = t;
        await held;
      },
      { log: quietLog() },
    );
    await vi.waitUntil(() => tenure !== undefined);
    const pids = await fenceSessions();
    await owner.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await vi.waitUntil(() => tenure.signal.aborted);
    release();
    await holding.catch(() => undefined);
  };
  const waitOf = (log: ReturnType<typeof quietLog>) =>
    log.warn.mock.calls
      .map(([, meta]) => (meta as { waitMs?: number } | undefined)?.waitMs)
      .find((ms) => ms !== undefined);

  it('a holder cancelled while waiting out a dead holder passes the wait on: the next holder still waits', async () => {
    await killHolder(fence(), 'a');
    const bEvents = events();
    const cancel = new AbortController();
    const waiting = fence(bEvents).hold('b', async () => 'listed', {
      log: quietLog(),
      cancelled: cancel.signal,
    });
    await vi.waitUntil(() => bEvents.uncleanHandover.mock.calls.length === 1);
    cancel.abort(); // its run terminated, or its worker shutting down: b releases cleanly
    await expect(waiting).rejects.toBeInstanceOf(FenceLostError);

    const cEvents = events();
    const log = quietLog();
    await fence(cEvents).hold('c', async () => undefined, { log });
    expect(cEvents.uncleanHandover).not.toHaveBeenCalled(); // b left cleanly...
    expect(waitOf(log)).toBeGreaterThan(0); // ...and yet c serves the rest of a's wait
  });

  it("after an unclean handover waits out the dead holder's own call timeout when it was longer (a config rollout)", async () => {
    const longTimeoutMs = 3_000;
    await killHolder(fence(events(), { callTimeoutMs: longTimeoutMs }), 'a');
    const log = quietLog();
    const cancel = new AbortController();
    const bEvents = events();
    const waiting = fence(bEvents).hold('b', async () => undefined, { log, cancelled: cancel.signal });
    await vi.waitUntil(() => log.warn.mock.calls.length === 1);
    cancel.abort();
    await waiting.catch(() => undefined);
    expect(waitOf(log)).toBeGreaterThan(longTimeoutMs); // not b's own 300 ms + lease
  });

  /**
   * A transaction-mode pooler in front of PostgreSQL, as the fence sees it: each statement may go
   * to any of the pooler's server sessions. Here two real sessions, taken in turns.
   */
  const pooled = (turns: (statement: number) => number) => async (config: import('pg').ClientConfig) => {
    const servers = [new pg.Client(config), new pg.Client(config)];
    await Promise.all(servers.map((server) => server.connect()));
    let statement = 0;
    const first = servers[0]!;
    return new Proxy(first, {
      get(target, property, receiver) {
        if (property === 'query') {
          return (...args: Parameters<pg.Client['query']>) =>
            (servers[turns(statement++)]!.query as (...a: unknown[]) => unknown)(...args);
        }
        if (property === 'end') return () => Promise.all(servers.map((server) => server.end()));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
  };

  it('refuses at start-up a connection whose statements reach shared server sessions (a transaction-mode pooler)', async () => {
    const direct = fence();
    await expect(direct.checkDirect()).resolves.toEqual({ proxied: false });

    const behindPooler = fence(events(), { connect: pooled((n) => (n < 3 ? 0 : n % 2)) });
    await expect(behindPooler.checkDirect()).rejects.toThrow(FenceSessionError);
    await expect(behindPooler.checkDirect()).rejects.toThrow(/HOLVI_FENCE_DATABASE_URL/);
  });

  it('a tenure whose lock statement went to another server session is lost before any call', async () => {
    // The lock is taken on one server session; the checks then reach another, which does not hold it.
    const aEvents = events();
    const a = fence(aEvents, { connect: pooled((n) => (n < 3 ? 0 : 1)) });
    let sent = 0;
    const holding = a.hold(
      'a',
      async (t) => {
        await new Promise((resolve) => setTimeout(resolve, leaseMs * 2));
        await t.assertHeld();
        sent++;
      },
      { log: quietLog() },
    );
    await expect(holding).rejects.toBeInstanceOf(FenceLostError);
    expect(sent).toBe(0);
    expect(aEvents.lost).toHaveBeenCalled();
  });

  it('refuses a lock that its server session already holds for someone else (the lock is re-entrant per backend)', async () => {
    // Two clients of a pooler handed the same server session: the second would get the lock too.
    const server = new pg.Client({ connectionString: holvi.appUrl });
    await server.connect();
    const shared = async () =>
      new Proxy(server, {
        get(target, property, receiver) {
          if (property === 'end') return async () => undefined;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
    try {
      let inside = false;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const first = fence(events(), { connect: shared }).hold(
        'a',
        async () => {
          inside = true;
          await held;
        },
        { log: quietLog() },
      );
      await vi.waitUntil(() => inside);
      const second = fence(events(), { connect: shared }).hold('b', async () => 'sent', { log: quietLog() });
      await expect(second).rejects.toThrow(FenceSessionError);
      release();
      await first;
    } finally {
      await server.end();
    }
  });
});
