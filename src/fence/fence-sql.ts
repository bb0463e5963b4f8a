import type pg from 'pg';

/**
 * The fence's statements on holvi_sync_fence, run by src/fence/sync-fence.ts on the lock's own
 * session. The row holds every duty a holder owes its successors, so that none lives only in
 * a process's memory: how the last holder left, how long its calls may still land, the epoch.
 */
type Db = pg.ClientBase;

/** The advisory lock's key: the fence table's oid, unique in the database and free of magic numbers. */
export const FENCE_LOCK_KEY_SQL = `'holvi_sync_fence'::regclass::oid::int, 0`;

/**
 * Whether this backend holds the fence's lock, as pg_locks shows it: a two-key advisory lock
 * keeps the first key in classid, the second in objid, and objsubid 2.
 */
const HELD_BY_THIS_BACKEND_SQL = `EXISTS (
  SELECT 1 FROM pg_locks
   WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND classid = 'holvi_sync_fence'::regclass::oid AND objid = 0 AND objsubid = 2)`;

/** What identifies the fence's own server session: its backend and a token only it was given. */
export interface SessionIdentity {
  pid: number;
  token: string;
}

/** Custom setting holding the token: session-level, so a pooled backend carries someone else's. */
const TOKEN_SETTING = 'holvi.fence_session';

/**
 * Server-side settings of the fence session. TCP keepalives let PostgreSQL notice a holder's
 * host that vanished without closing its socket (power loss, partition, a NAT forgetting the
 * connection) in about 25 s instead of the kernel's two hours, and so free the lock; the
 * timeouts keep a fence statement from waiting for ever on a lock or a stuck server.
 * (Server-wide, `tcp_keepalives_*` and `idle_session_timeout` bound the same for every session:
 * docs/architecture.md, "A lost host".)
 */
const SESSION_SETTINGS: Record<string, string> = {
  tcp_keepalives_idle: '10',
  tcp_keepalives_interval: '5',
  tcp_keepalives_count: '3',
  tcp_user_timeout: '25000',
  statement_timeout: '30s',
  lock_timeout: '5s',
  idle_in_transaction_session_timeout: '30s',
  // The fence's one-row statements, planned without statistics, would otherwise be JIT-compiled
  // (hundreds of milliseconds each) once their estimated cost crosses jit_above_cost.
  jit: 'off',
};

/**
 * A new fence session's set-up: its settings, and its identity. A token already set on the
 * backend means a pooler handed over a server session another client used: refused.
 */
export async function identifySession(
  db: Db,
  token: string,
): Promise<SessionIdentity & { foreignToken: string | null }> {
  const names = Object.keys(SESSION_SETTINGS);
  const { rows } = await db.query<{ pid: number; previous: string | null }>(
    `SELECT pg_backend_pid() AS pid, nullif(current_setting('${TOKEN_SETTING}', true), '') AS previous,
            set_config('${TOKEN_SETTING}', $1, false),
            ${names.map((name, i) => `set_config('${name}', $${i + 2}, false)`).join(', ')}`,
    [token, ...names.map((name) => SESSION_SETTINGS[name]!)],
  );
  const row = rows[0]!;
  return { pid: row.pid, token, foreignToken: row.previous };
}

export interface SessionCheck {
  /** The statement ran on the backend the session was opened on, carrying its token. */
  same: boolean;
  /** That backend holds the fence's lock. */
  held: boolean;
  /** The server's view of the client's TCP port (null over a Unix socket). */
  clientPort: number | null;
}

/** Which backend answers, and whether it holds the lock: one round trip. */
export async function checkSession(db: Db, identity: SessionIdentity): Promise<SessionCheck> {
  const { rows } = await db.query<{ same: boolean; held: boolean; client_port: number | null }>(
    `SELECT pg_backend_pid() = $1 AND current_setting('${TOKEN_SETTING}', true) = $2 AS same,
            ${HELD_BY_THIS_BACKEND_SQL} AS held, inet_client_port() AS client_port`,
    [identity.pid, identity.token],
  );
  const row = rows[0]!;
  return { same: row.same, held: row.held, clientPort: row.client_port };
}

export type LockAttempt = 'locked' | 'busy' | 'foreign';

/**
 * Takes the lock if it is free. 'foreign': this backend already holds it although the session
 * never took it (the lock is re-entrant per backend): a pooler shares server sessions, and the
 * lock would be handed to two holders at once. Also 'foreign' when another backend answers.
 */
export async function tryLock(db: Db, identity: SessionIdentity): Promise<LockAttempt> {
  const { rows } = await db.query<{ outcome: LockAttempt }>(
    `SELECT CASE
              WHEN pg_backend_pid() <> $1 OR current_setting('${TOKEN_SETTING}', true) IS DISTINCT FROM $2 THEN 'foreign'
              WHEN ${HELD_BY_THIS_BACKEND_SQL} THEN 'foreign'
              WHEN pg_try_advisory_lock(${FENCE_LOCK_KEY_SQL}) THEN 'locked'
              ELSE 'busy' END AS outcome`,
    [identity.pid, identity.token],
  );
  return rows[0]!.outcome;
}

export async function unlock(db: Db): Promise<void> {
  await db.query(`SELECT pg_advisory_unlock(${FENCE_LOCK_KEY_SQL})`);
}

export interface FenceTakeOver {
  epoch: number;
  previousHolder: string | null;
  /** The previous holder never released it: it died or lost its session, maybe mid-call. */
  unclean: boolean;
  /** How long this holder must wait before it lists or sends: the duty the row holds now. */
  waitMs: number;
}

/**
 * Run right after the lock was taken: notes the holder and its send window, and, when the
 * previous holder never released, writes the wait owed for its calls into quiet_until at once
 * (the longer of its window and ours, never shortening a wait already owed). The wait is thus
 * the row's, whoever ends up serving it.
 */
export async function takeOverFence(db: Db, holder: string, sendWindowMs: number): Promise<FenceTakeOver> {
  const { rows } = await db.query<{
    epoch: string;
    previous_holder: string | null;
    unclean: boolean;
    wait_ms: number;
  }>(
    `WITH previous AS (SELECT * FROM holvi_sync_fence),
          owed AS (
            SELECT previous.acquired_at IS NOT NULL AND previous.released_at IS NULL AS unclean,
                   CASE WHEN previous.acquired_at IS NOT NULL AND previous.released_at IS NULL
                        THEN clock_timestamp() + GREATEST($2::int, COALESCE(previous.send_window_ms, 0)) * interval '1 ms'
                   END AS until
              FROM previous)
     UPDATE holvi_sync_fence f
        SET holder = $1, acquired_at = clock_timestamp(), released_at = NULL, send_window_ms = $2::int,
            quiet_until = GREATEST(previous.quiet_until, owed.until)
       FROM previous, owed
     RETURNING f.epoch, previous.holder AS previous_holder, owed.unclean,
               GREATEST(0, ceil(extract(epoch FROM f.quiet_until - clock_timestamp()) * 1000))::int AS wait_ms`,
    [holder, Math.ceil(sendWindowMs)],
  );
  const row = rows[0];
  if (!row) throw new Error('holvi_sync_fence has no row: run the migrations');
  return {
    epoch: Number(row.epoch),
    previousHolder: row.previous_holder,
    unclean: row.unclean,
    waitMs: row.wait_ms ?? 0,
  };
}

/** A clean release; `quietMs` > 0 when calls of ours may still land at the partner. */
export async function releaseFence(db: Db, quietMs: number): Promise<void> {
  await db.query(
    `UPDATE holvi_sync_fence
        SET released_at = clock_timestamp(),
            quiet_until = GREATEST(quiet_until, CASE WHEN $1::int > 0 THEN clock_timestamp() + $1::int * interval '1 ms' END)`,
    [Math.ceil(quietMs)],
  );
}

export async function fenceEpoch(db: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await db.query<{ epoch: string }>('SELECT epoch FROM holvi_sync_fence');
  return Number(rows[0]?.epoch ?? 0);
}

export async function currentHolder(db: Db): Promise<string | null> {
  const { rows } = await db.query<{ holder: string | null }>('SELECT holder FROM holvi_sync_fence');
  return rows[0]?.holder ?? null;
}
