import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { FENCE_LOCK_KEY_SQL, releaseFence, takeOverFence } from '../db/payout-store.js';

/**
 * The fence: at most one process talks to Expenzy for a Holvi database at any moment, whatever
 * Temporal does (two runs, two workflow ids, a stalled or timed-out attempt, a reset, two
 * deployments). It is a PostgreSQL session-level advisory lock, held on a connection of its own
 * for as long as a holder has partner calls in flight (docs/architecture.md, "The fence"):
 *
 * - a holder that dies frees it: PostgreSQL ends its session;
 * - a holder that stalls keeps it, so nobody overlaps it;
 * - a holder that loses its session stops at once: `signal` aborts its calls in flight, and
 *   `assertHeld()` refuses every further call unless the session answered within `leaseMs`;
 * - after an unclean handover (the last holder never released), the new holder waits out the
 *   longest call that may still be in flight, `leaseMs + callTimeoutMs`, before it does anything.
 */
export interface SyncFenceOptions {
  connectionString: string;
  /** EXPENZY_CALL_TIMEOUT: no partner call of a holder outlives it. */
  callTimeoutMs: number;
  /** A holder sends only within this long of its session last answering. */
  leaseMs?: number;
  /** Told about waits, unclean handovers and lost sessions (metrics). */
  events?: Partial<FenceEvents>;
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

const DEFAULT_LEASE_MS = 2_000;
const MAX_BACKOFF_MS = 1_000;
const WAIT_LOG_EVERY_MS = 10_000;

export class SyncFence {
  private readonly leaseMs: number;
  /** One holder per process too: the advisory lock is re-entrant within its session. */
  private busy = false;
  private idleSession: pg.Client | undefined;

  constructor(private readonly options: SyncFenceOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Waits for the fence, runs `work` holding it, and releases it. */
  async hold<T>(holder: string, work: (tenure: Tenure) => Promise<T>, options: HoldOptions): Promise<T> {
    const session = await this.acquire(holder, options);
    const tenure = new HeldTenure(session, this.leaseMs, () => this.options.events?.lost?.());
    try {
      const handover = await takeOverFence(session, holder);
      const waitMs = handover.unclean ? this.leaseMs + this.options.callTimeoutMs : handover.quietMs;
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
    await session?.end().catch(() => undefined);
  }

  private async acquire(holder: string, options: HoldOptions): Promise<pg.Client> {
    let backoffMs = 25;
    let lastLog = 0;
    for (;;) {
      if (options.cancelled?.aborted)
        throw new FenceLostError(`${holder}: cancelled while waiting for the fence`);
      if (!this.busy) {
        this.busy = true;
        let session: pg.Client | undefined;
        try {
          session = await this.session();
          const { rows } = await session.query<{ locked: boolean }>(
            `SELECT pg_try_advisory_lock(${FENCE_LOCK_KEY_SQL}) AS locked`,
          );
          if (rows[0]?.locked) return session;
          this.idleSession = session;
        } catch (error) {
          session?.end().catch(() => undefined);
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

  private async release(session: pg.Client, tenure: HeldTenure): Promise<void> {
    tenure.stopWatching();
    try {
      if (tenure.lost) throw new FenceLostError('session lost');
      await releaseFence(session, tenure.cutShort ? this.options.callTimeoutMs : 0);
      await session.query(`SELECT pg_advisory_unlock(${FENCE_LOCK_KEY_SQL})`);
      this.idleSession = session;
    } catch {
      // Unreleased: the session ends, which frees the lock, and the next holder waits it out.
      this.idleSession = undefined;
      await session.end().catch(() => undefined);
    } finally {
      this.busy = false;
    }
  }

  /** The lock's connection, kept between tenures; a new one after any failure. */
  private async session(): Promise<pg.Client> {
    const idle = this.idleSession;
    this.idleSession = undefined;
    if (idle && !sessionBroken.has(idle)) return idle;
    idle?.end().catch(() => undefined);
    const session = new pg.Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: 5_000,
      application_name: 'expenzy-sync fence',
      keepAlive: true,
    });
    const broken = () => sessionBroken.add(session);
    session.on('error', broken);
    session.on('end', broken);
    await session.connect();
    return session;
  }

  private async currentHolder(): Promise<string | null> {
    const session = this.idleSession;
    if (!session) return null;
    const { rows } = await session
      .query<{ holder: string | null }>('SELECT holder FROM holvi_sync_fence')
      .catch(() => ({ rows: [] }));
    return rows[0]?.holder ?? null;
  }
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

  constructor(
    readonly session: pg.Client,
    private readonly leaseMs: number,
    private readonly onLost: () => void,
  ) {
    this.signal = this.controller.signal;
    session.on('error', this.ended);
    session.on('end', this.ended);
    if (sessionBroken.has(session)) this.lose('the fence session had ended');
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

  /** One round trip on the lock's session, bounded by half the lease. */
  private verify(): Promise<void> {
    this.verifying ??= (async () => {
      const asked = performance.now();
      try {
        await withTimeout(this.session.query('SELECT 1'), this.leaseMs / 2);
        this.lastAnsweredAt = asked;
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
