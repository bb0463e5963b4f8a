import pg from 'pg';

/** An idle client losing its connection must not crash the process: the next query reconnects. */
export function createPool(
  connectionString: string,
  onIdleError: (error: Error) => void = () => {},
): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 10 });
  pool.on('error', onIdleError);
  return pool;
}

/** Creates the simulator's one table if missing. The Holvi report tool reads it directly. */
export async function migrateExpenzy(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Two processes starting at once would otherwise race on CREATE TABLE IF NOT EXISTS.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('expenzy_transaction'))`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS expenzy_transaction (
        id uuid PRIMARY KEY,
        amount numeric(16, 2) NOT NULL,
        create_time timestamptz NOT NULL DEFAULT clock_timestamp(),
        recipient_account_identifier varchar(20) NOT NULL,
        state text NOT NULL DEFAULT 'notifying' CHECK (state IN ('notifying', 'processing', 'error')),
        state_update_count integer NOT NULL DEFAULT 0,
        malformed_kind text NULL
      )`);
    await client.query(`
      CREATE INDEX IF NOT EXISTS expenzy_transaction_state_create_time_idx
        ON expenzy_transaction (state, create_time)`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
