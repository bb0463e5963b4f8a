import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  checkSession,
  currentHolder,
  identifySession,
  releaseFence,
  takeOverFence,
  tryLock,
  unlock,
  type SessionIdentity,
} from './fence-sql.js';

/**
 * The fence: at most one process talks to Expenzy for a Holvi database at any moment, whatever
 * Temporal does (two runs, two workflow ids, a stalled or timed-out attempt, a reset, two
 * deployments). It is a PostgreSQL session-level advisory lock, held on a connection of its own
 * for as long as a holder has partner calls in flight (docs/architecture.md, "The fence"):
 *
 * - a holder that dies frees it: PostgreSQL ends its session;
 * - a holder that stalls keeps it, so nobody overlaps it;
 * - a holder that loses its session stops at once: `signal` aborts its calls in flight, and
 *   `assertHeld()` refuses every further call unless its own backend showed the lock (pg_locks)
 *   within `leaseMs`;
 * - after an unclean handover (the last holder never released), the new holder owes a wait for
 *   the longest call that may still be in flight: the longer of its own send window and the
 *   dead holder's (`leaseMs + callTimeoutMs`, each as its holder declared it). The wait is
 *   written in the fence row at takeover, so a holder cancelled or killed while serving it passes
 *   the rest on;
 * - a session that is not one server session of its own (a transaction-mode pooler in between)
 *   is refused: `checkDirect()` at start-up, and every lock attempt and check thereafter.
 */
export interface SyncFenceOptions {
  /** HOLVI_FENCE_DATABASE_URL: a direct connection (no transaction-mode pooler). */
  connectionString: string;
  /** EXPENZY_CALL_TIMEOUT: no partner call of a holder outlives it. */
  callTimeoutMs: number;
  /** A holder sends only within this long of its session last answering. */
  leaseMs?: number;
  /** Told about waits, unclean handovers and lost sessions (metrics). */
  events?: Partial<FenceEvents>;
  /** Opens the lock's connection; tests stand a pooler in between. */
  connect?: (config: pg.ClientConfig) => Promise<pg.Client>;
}

export interface FenceEvents {
  waited(): void;
  uncleanHandover(): void;
  lost(): void;
}

export interface FenceLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface HoldOptions {
  log: FenceLog;
  /** Called while waiting (activities heartbeat, so a long wait is not a dead worker). */
  heartbeat?: () => void;
  /** Stops waiting (a cancelled activity). */
  cancelled?: AbortSignal;
}

/** What a holder may do with the fence, for as long as `hold()`'s work runs. */
export interface Tenure {
  /** The lock's own session: fence SQL (epoch, passes) runs here, so it fails with the session. */
  session: pg.ClientBase;
  /** Aborted the moment the session is lost: pass it to every partner call. */
  signal: AbortSignal;
  /** Throws FenceLostError unless the session is known to hold the lock; await before every call. */
  assertHeld(): Promise<void>;
  /** Calls were aborted or timed out without an answer: the next holder waits before it lists. */
  callsCutShort(): void;
  /** A call of this tenure ended without an answer: it may still land, so no list now is final. */
  readonly cutShort: boolean;
}

export class FenceLostError extends Error {
  override name = 'FenceLostError';
}

/** The fence's connection does not reach one server session of its own: it cannot work there. */
export class FenceSessionError extends Error {
  override name = 'FenceSessionError';
  constructor(reason: string) {
    super(
      `the fence cannot work on this connection: ${reason}. The fence's advisory lock needs one ` +
        'server session of its own; a transaction-mode pooler (PgBouncer and the like) hands ' +
        'statements to shared server sessions. Set HOLVI_FENCE_DATABASE_URL to a direct connection ' +
        'to PostgreSQL (or to a pooler in session mode); HOLVI_DATABASE_URL may stay on the pooler.',
    );
  }
}

const DEFAULT_LEASE_MS = 2_000;
/** A fence statement that gets no answer within this long ends its session (a half-open socket). */
const QUERY_TIMEOUT_MS = 15_000;
/** Statements each of two probe sessions runs at start-up, alternating. */
const PROBE_ROUNDS = 4;
const MAX_BACKOFF_MS = 1_000;
const WAIT_LOG_EVERY_MS = 10_000;

export class SyncFence {
  private readonly leaseMs: number;
  /** One holder per process too: the advisory lock is re-entrant within its session. */
  private busy = false;
  private idleSession: FenceSession | undefined;

  constructor(private readonly options: SyncFenceOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Waits for the fence, runs `work` holding it, and releases it. */
  async hold<T>(holder: string, work: (tenure: Tenure) => Promise<T>, options: HoldOptions): Promise<T> {
    const session = await this.acquire(holder, options);
    const tenure = new HeldTenure(session, this.leaseMs, () => this.options.events?.lost?.());
    try {
      const handover = await takeOverFence(session.client, holder, this.leaseMs + this.options.callTimeoutMs);
      const waitMs = handover.waitMs;
      if (handover.unclean) this.options.events?.uncleanHandover?.();
      if (waitMs > 0) {
        options.log.warn('fence taken over: waiting out calls of the previous holder that may be in flight', {
          previousHolder: handover.previousHolder,
          unclean: handover.unclean,
          waitMs,
        });
        await waitHeartbeating(waitMs, options, tenure.signal);
      }
      tenure.startWatching();
      return await work(tenure);
    } finally {
      await this.release(session, tenure);
    }
  }

  /** Ends the idle session (the worker's shutdown). */
  async close(): Promise<void> {
    const session = this.idleSession;
    this.idleSession = undefined;
    await session?.client.end().catch(() => undefined);
  }

  /**
   * At start-up: refuses a connection on which the lock cannot work. Two sessions of this
   * process each set a token of their own on their server session, then check it in turns: on
   * a direct connection each statement finds its own backend and token; behind a
   * transaction-mode pooler one soon lands on the other's server session.
   */
  async checkDirect(): Promise<{ proxied: boolean }> {
    const probes = [await this.openSession(), await this.openSession()];
    try {
      let proxied = false;
      for (let round = 0; round < PROBE_ROUNDS; round++) {
        for (const probe of probes) {
          const check = await checkSession(probe.client, probe.identity);
          if (!check.same)
            throw new FenceSessionError('consecutive statements reached different server sessions');
          if (check.held) throw new FenceSessionError('a new session already holds the fence lock');
          proxied ||= check.clientPort !== probe.localPort;
        }
      }
      return { proxied };
    } finally {
      await Promise.all(probes.map((probe) => probe.client.end().catch(() => undefined)));
    }
  }

  private async acquire(holder: string, options: HoldOptions): Promise<FenceSession> {
    let backoffMs = 25;
    let lastLog = 0;
    for (;;) {
      if (options.cancelled?.aborted)
        throw new FenceLostError(`${holder}: cancelled while waiting for the fence`);
      if (!this.busy) {
        this.busy = true;
        let session: FenceSession | undefined;
        try {
          session = await this.session();
          const attempt = await tryLock(session.client, session.identity);
          if (attempt === 'foreign') {
            throw new FenceSessionError("the lock statement reached a server session not this one's");
          }
          if (attempt === 'locked') return session;
          this.idleSession = session;
        } catch (error) {
          session?.client.end().catch(() => undefined);
          this.busy = false;
          throw error;
        }
        this.busy = false;
      }
      this.options.events?.waited?.();
      if (Date.now() - lastLog > WAIT_LOG_EVERY_MS) {
        lastLog = Date.now();
        options.log.info('waiting for the fence: another holder has partner calls in flight', {
          holder,
          heldBy: await this.currentHolder(),
        });
      }
      options.heartbeat?.();
      await sleep(backoffMs, undefined, { signal: options.cancelled }).catch(() => undefined);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  private async release(session: FenceSession, tenure: HeldTenure): Promise<void> {
    tenure.stopWatching();
    try {
      if (tenure.lost) throw new FenceLostError('session lost');
      await releaseFence(session.client, tenure.cutShort ? this.options.callTimeoutMs : 0);
      await unlock(session.client);
      this.idleSession = session;
    } catch {
      // Unreleased: the session ends, which frees the lock, and the next holder waits it out.
      this.idleSession = undefined;
      await session.client.end().catch(() => undefined);
    } finally {
      this.busy = false;
    }
  }

  /** The lock's connection, kept between tenures; a new one after any failure. */
  private async session(): Promise<FenceSession> {
    const idle = this.idleSession;
    this.idleSession = undefined;
    if (idle && !sessionBroken.has(idle.client)) return idle;
    idle?.client.end().catch(() => undefined);
    return this.openSession();
  }

  /** A new connection, identified: refused when its server session was someone else's. */
  private async openSession(): Promise<FenceSession> {
    const config: pg.ClientConfig = {
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: 5_000,
      application_name: 'expenzy-sync fence',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: QUERY_TIMEOUT_MS,
    };
    const client = this.options.connect ? await this.options.connect(config) : new pg.Client(config);
    const broken = () => sessionBroken.add(client);
    client.on('error', broken);
    client.on('end', broken);
    try {
      if (!this.options.connect) await client.connect();
      const identity = await identifySession(client, randomUUID());
      if (identity.foreignToken !== null) {
        throw new FenceSessionError('a new connection reached a server session another client had used');
      }
      return { client, identity, localPort: localPortOf(client) };
    } catch (error) {
      broken();
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async currentHolder(): Promise<string | null> {
    const session = this.idleSession;
    if (!session) return null;
    return currentHolder(session.client).catch(() => null);
  }
}

/** The lock's connection and what identifies its server session. */
interface FenceSession {
  client: pg.Client;
  identity: SessionIdentity;
  /** The client's own TCP port (null over a Unix socket): the server sees it unless a proxy is between. */
  localPort: number | null;
}

function localPortOf(client: pg.Client): number | null {
  const stream = (client as unknown as { connection?: { stream?: { localPort?: number } } }).connection
    ?.stream;
  return typeof stream?.localPort === 'number' ? stream.localPort : null;
}

/** Sessions that emitted 'error' or 'end': never used again. */
const sessionBroken = new WeakSet<pg.Client>();

class HeldTenure implements Tenure {
  readonly signal: AbortSignal;
  lost = false;
  cutShort = false;
  private readonly controller = new AbortController();
  private lastAnsweredAt = performance.now();
  private verifying: Promise<void> | undefined;
  private watch: NodeJS.Timeout | undefined;
  private readonly ended = () => this.lose('the fence session ended');

  readonly session: pg.Client;

  constructor(
    private readonly fenceSession: FenceSession,
    private readonly leaseMs: number,
    private readonly onLost: () => void,
  ) {
    this.session = fenceSession.client;
    this.signal = this.controller.signal;
    this.session.on('error', this.ended);
    this.session.on('end', this.ended);
    if (sessionBroken.has(this.session)) this.lose('the fence session had ended');
  }

  startWatching(): void {
    this.watch = setInterval(() => void this.verify().catch(() => undefined), this.leaseMs / 2);
    this.watch.unref();
  }

  stopWatching(): void {
    clearInterval(this.watch);
    this.session.off('error', this.ended);
    this.session.off('end', this.ended);
  }

  async assertHeld(): Promise<void> {
    if (!this.lost && performance.now() - this.lastAnsweredAt > this.leaseMs) await this.verify();
    if (this.lost) throw new FenceLostError('the fence was lost: no partner call may be sent');
  }

  callsCutShort(): void {
    this.cutShort = true;
  }

  /**
   * One round trip on the lock's session, bounded by half the lease: the answering backend must
   * be the session's own and hold the lock (an answer alone proves nothing behind a pooler).
   */
  private verify(): Promise<void> {
    this.verifying ??= (async () => {
      const asked = performance.now();
      try {
        const check = await withTimeout(
          checkSession(this.session, this.fenceSession.identity),
          this.leaseMs / 2,
        );
        if (!check.same) this.lose('another server session answered the fence session');
        else if (!check.held) this.lose('the fence session no longer holds the lock');
        else this.lastAnsweredAt = asked;
      } catch {
        this.lose('the fence session did not answer');
      } finally {
        this.verifying = undefined;
      }
    })();
    return this.verifying;
  }

  private lose(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.onLost();
    this.controller.abort(new FenceLostError(reason));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps, heartbeating every second; a lost session or a cancellation ends the wait with an error. */
async function waitHeartbeating(ms: number, options: HoldOptions, lost: AbortSignal): Promise<void> {
  const until = performance.now() + ms;
  const stop = options.cancelled ? AbortSignal.any([options.cancelled, lost]) : lost;
  for (let left = ms; left > 0; left = until - performance.now()) {
    options.heartbeat?.();
    await sleep(Math.min(left, 1_000), undefined, { signal: stop }).catch(() => undefined);
    if (stop.aborted) throw new FenceLostError('stopped while waiting out the previous holder');
  }
}
