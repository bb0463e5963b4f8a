import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateHolvi, migrationsDir } from '../src/db/migrate.js';
import { SchemaBehindError, expectedMigrations, requireCurrentSchema } from '../src/db/schema-version.js';
import { createHolviDatabase, type TestDatabase } from './support/databases.js';

// The API and the worker hold the service role only: they never migrate, they check at start-up
// that the schema has every migration of migrations/ and refuse otherwise, naming the command.

const shipped = readdirSync(migrationsDir).filter((name) => !name.startsWith('.'));

describe('the schema-version check of the API and the worker', () => {
  let db: TestDatabase;
  let appPool: pg.Pool;
  beforeAll(async () => {
    db = await createHolviDatabase({ migrate: false });
    appPool = new pg.Pool({ connectionString: db.appUrl, max: 2 });
  });
  afterAll(async () => {
    await appPool.end();
    await db.drop();
  });

  it('derives the expected version from the files in migrations/', () => {
    expect(shipped.length).toBeGreaterThan(0);
    expect(expectedMigrations()).toEqual(shipped.map((name) => name.replace(/\.[^.]+$/, '')).sort());
  });

  it('refuses an unmigrated database, naming every missing migration and the command to run', async () => {
    const refused = await requireCurrentSchema(appPool).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SchemaBehindError);
    expect((refused as SchemaBehindError).missing).toEqual(expectedMigrations());
    expect((refused as Error).message).toContain("'make setup'");
    expect((refused as Error).message).toContain("'npm run migrate'");
  });

  it('passes once the owner role has migrated, read with the service role', async () => {
    await migrateHolvi(db.ownerUrl);
    expect(await requireCurrentSchema(appPool)).toEqual({ missing: [], newer: [] });
  });

  it('refuses when a migration added to migrations/ has not been applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      for (const name of shipped) writeFileSync(join(dir, name), '');
      writeFileSync(join(dir, '9999999999999_next-change.sql'), '');
      writeFileSync(join(dir, '.hidden'), '');
      await expect(requireCurrentSchema(appPool, dir)).rejects.toThrow(
        /1 migration\(s\) not applied \(9999999999999_next-change\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts a newer schema (a later release migrated first) and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      for (const name of shipped.slice(1)) writeFileSync(join(dir, name), '');
      const status = await requireCurrentSchema(appPool, dir);
      expect(status.missing).toEqual([]);
      expect(status.newer).toEqual(expectedMigrations().slice(0, 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the service role cannot run DDL', async () => {
    await expect(appPool.query('CREATE TABLE intruder (id int)')).rejects.toThrow(/permission denied/);
    await expect(appPool.query('DROP TABLE holvi_schema_migrations')).rejects.toThrow(/must be owner/);
  });
});
