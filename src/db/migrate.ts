import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from 'pino';

export const migrationsDir = new URL('../../migrations/', import.meta.url).pathname;
export const MIGRATIONS_TABLE = 'holvi_schema_migrations';

/**
 * Applies Holvi's pending migrations as the owner role (idempotent; node-pg-migrate holds an
 * advisory lock). Only the migrate step runs this (`make setup`, `npm run migrate`, compose's
 * `migrate` service): the API and the worker hold no owner credentials and only check the version
 * (schema-version.ts), which is why the list of applied migrations is made readable to every role
 * of the database (migration names and times: nothing secret).
 */
export async function migrateHolvi(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    checkOrder: true,
    log: (message) => logger?.debug(message),
  });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`GRANT SELECT ON ${MIGRATIONS_TABLE} TO PUBLIC`);
  } finally {
    await client.end();
  }
  return applied.map((migration) => migration.name);
}
