import type pg from 'pg';

// Compact columns, all as text: uuids and money keep their exact spelling, and timestamps come
// as epoch microseconds (extract() is numeric since PostgreSQL 14, so this is exact).
const micros = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;

export interface ExpenzyRow {
  id: string;
  amount: string;
  recipient: string;
  createMicros: string;
  state: string;
  updateCount: number;
  malformed: boolean;
  /** The id as Holvi keeps a listed one: differs only for the simulator's `bad_id` and `nul_id` defects. */
  listedId: string;
}

export interface HolviRow {
  uuid: string;
  amount: string;
  recipient: string;
  createMicros: string;
  receivedMicros: string;
  confirmedMicros: string | null;
}

export interface HolviSide {
  received: HolviRow[];
  /** `expenzy_id` of each quarantined row (text: a malformed id is kept as it came). */
  rejectedIds: (string | null)[];
  /** Quarantined rows the partner refused to set to `error` for good (Holvi's own record). */
  refusedForGood?: (string | null)[];
}

/** All statements of one side see the same snapshot, so its counts agree with its rows. */
async function inSnapshot<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A failed statement leaves the transaction aborted: that session is closed, not pooled.
    client.release(failed);
  }
}

export function loadExpenzy(pool: pg.Pool): Promise<ExpenzyRow[]> {
  return inSnapshot(pool, async (client) => {
    const { rows } = await client.query<ExpenzyRow>(
      `SELECT id::text AS id, amount::text AS amount, recipient_account_identifier AS recipient,
              ${micros('create_time')} AS "createMicros", state,
              state_update_count AS "updateCount", malformed_kind IS NOT NULL AS malformed,
              -- mirrors the simulator's rendering of its id defects (expenzy/render.ts); Holvi keeps
              -- an id's U+0000 as the six characters \\u0000
              CASE malformed_kind WHEN 'bad_id' THEN 'txn-' || left(id::text, 8)
                                  WHEN 'nul_id' THEN id::text || '\\u0000'
                                  ELSE id::text END AS "listedId"
         FROM expenzy_transaction ORDER BY create_time, id`,
    );
    return rows;
  });
}

export function loadHolvi(pool: pg.Pool): Promise<HolviSide> {
  return inSnapshot(pool, async (client) => {
    const { rows: received } = await client.query<HolviRow>(
      `SELECT expenzy_uuid::text AS uuid, amount::text AS amount, recipient_account_identifier AS recipient,
              ${micros('create_time')} AS "createMicros", ${micros('received_at')} AS "receivedMicros",
              ${micros('processing_confirmed_at')} AS "confirmedMicros"
         FROM holvi_received_payout ORDER BY id`,
    );
    const { rows: rejected } = await client.query<{ expenzy_id: string | null; for_good: boolean }>(
      `SELECT expenzy_id, partner_error_set_at IS NULL AND partner_error_failure IS NOT NULL
                          AND partner_error_retry_at IS NULL AS for_good
         FROM holvi_rejected_payout ORDER BY id`,
    );
    return {
      received,
      rejectedIds: rejected.map((row) => row.expenzy_id),
      refusedForGood: rejected.filter((row) => row.for_good).map((row) => row.expenzy_id),
    };
  });
}
