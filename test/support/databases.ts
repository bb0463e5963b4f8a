import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { defaultPorts } from '../../config/ports.js';
import { migrateHolvi } from '../../src/db/migrate.js';

/**
 * Where the local test cluster lives: scripts/postgres.sh's, which test/global-setup.ts starts on
 * PGPORT (else the default port); override with TEST_PG_HOST / TEST_PG_PORT.
 */
const host = process.env.TEST_PG_HOST ?? '127.0.0.1';
const port = Number(process.env.TEST_PG_PORT || process.env.PGPORT || defaultPorts.postgres);

export const urlFor = (user: string, database: string) =>
  `postgres://${user}:${user}@${host}:${port}/${database}`;

export interface TestDatabase {
  name: string;
  /** Connection string of the owning (migration) role. */
  ownerUrl: string;
  /** Connection string of the role the service uses at run time. */
  appUrl: string;
  drop(): Promise<void>;
}

async function createDatabase(prefix: string, owner: string, appRole: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: urlFor(owner, 'postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    ownerUrl: urlFor(owner, name),
    appUrl: urlFor(appRole, name),
    async drop() {
      const client = new pg.Client({ connectionString: urlFor(owner, 'postgres') });
      await client.connect();
      // A pool closing in the background may still hold a session for a moment.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          break;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      await client.end();
    },
  };
}

/** A fresh, migrated Holvi database (`migrate: false`: empty); the services' role is holvi_app as in production. */
export async function createHolviDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const db = await createDatabase('holvi_test', 'holvi_owner', 'holvi_app');
  if (options.migrate !== false) await migrateHolvi(db.ownerUrl);
  return db;
}

/** A fresh, empty database for the Expenzy simulator (it creates its own table). */
export async function createExpenzyDatabase(): Promise<TestDatabase> {
  return createDatabase('expenzy_test', 'expenzy', 'expenzy');
}

/**
 * A pool for a test database. Dropping the database (WITH FORCE) may end an idle connection of
 * a pool that is still closing: that is the test's teardown, not a failure, so it is not thrown.
 */
export function testPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => undefined);
  return pool;
}
