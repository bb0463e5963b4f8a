import pg from 'pg';
import type { Logger } from 'pino';

/**
 * A pg pool that survives a PostgreSQL restart: broken idle clients are dropped (the 'error'
 * handler keeps the process alive) and the next query opens a fresh connection.
 */
export function createPool(connectionString: string, max: number, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle database connection failed'));
  return pool;
}
