import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

const migrationsDir = new URL('../../migrations/', import.meta.url).pathname;

/**
 * Applies Holvi's pending migrations (idempotent; node-pg-migrate holds an advisory lock,
 * so the API and the worker may both call it at start-up). Runs as the migration role.
 */
export async function migrateHolvi(databaseUrl: string, logger?: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'holvi_schema_migrations',
    checkOrder: true,
    log: (message) => logger?.debug(message),
  });
  return applied.map((migration) => migration.name);
}
