import { readdirSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type pg from 'pg';
import { MIGRATIONS_TABLE, migrationsDir } from './migrate.js';

/**
 * The API and the worker connect as the service role, which can neither create nor alter tables:
 * they only check, at start-up, that every migration this code ships has been applied, and
 * refuse to start otherwise. The expected version is read from migrations/ the way node-pg-migrate
 * names migrations (each file not starting with a dot, without its extension), so a new
 * migration needs no change here.
 */
export class SchemaBehindError extends Error {
  override name = 'SchemaBehindError';
  constructor(readonly missing: string[]) {
    super(
      `Holvi's database schema is behind this code: ${missing.length} migration(s) not applied ` +
        `(${missing.join(', ')}). The services do not run DDL: apply the migrations with the owner ` +
        "role first: 'make setup' locally, 'npm run migrate' (HOLVI_MIGRATION_DATABASE_URL) " +
        "elsewhere, or the 'migrate' service of docker-compose.yml.",
    );
  }
}

export interface SchemaStatus {
  /** Migrations of this code that the database has not applied. */
  missing: string[];
  /** Applied migrations this code does not know: a newer release migrated first (expand/contract). */
  newer: string[];
}

/** Names of the migrations this code ships, in node-pg-migrate's order. */
export function expectedMigrations(dir = migrationsDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && !entry.name.startsWith('.'))
    .map((entry) => basename(entry.name, extname(entry.name)))
    .sort();
}

export async function schemaStatus(pool: pg.Pool, dir = migrationsDir): Promise<SchemaStatus> {
  const expected = expectedMigrations(dir);
  let applied: string[];
  try {
    const { rows } = await pool.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`);
    applied = rows.map((row) => row.name);
  } catch (error) {
    // 42P01: no such table, the database was never migrated.
    if ((error as { code?: string }).code !== '42P01') throw error;
    applied = [];
  }
  const appliedSet = new Set(applied);
  const expectedSet = new Set(expected);
  return {
    missing: expected.filter((name) => !appliedSet.has(name)),
    newer: applied.filter((name) => !expectedSet.has(name)).sort(),
  };
}

/** Resolves when the schema is current (or newer); throws SchemaBehindError when it is behind. */
export async function requireCurrentSchema(pool: pg.Pool, dir = migrationsDir): Promise<SchemaStatus> {
  const status = await schemaStatus(pool, dir);
  if (status.missing.length > 0) throw new SchemaBehindError(status.missing);
  return status;
}

/**
 * A service's start-up check: the service role runs no DDL, so the migrate step must have run
 * first. When the schema is behind, logs why (naming the command) and ends the process.
 */
export async function requireCurrentSchemaOrExit(
  pool: pg.Pool,
  logger: { fatal(meta: object, message: string): void },
): Promise<void> {
  try {
    await requireCurrentSchema(pool);
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'schema check failed');
    await pool.end();
    process.exit(1);
  }
}
