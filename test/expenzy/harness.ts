import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { buildExpenzyApp } from '../../expenzy/app.js';
import { createPool, migrateExpenzy } from '../../expenzy/db.js';
import { Knobs, type KnobSettings, type KnobsOptions } from '../../expenzy/knobs.js';
import { createExpenzyDatabase, type TestDatabase } from '../support/databases.js';

/** A payout as the partner lists it (before any malformed rendering). */
export interface ListedPayout {
  id: string;
  amount: string | number;
  create_time: string;
  recipient_account_identifier?: string;
  state: string;
}

export interface Simulator {
  app: FastifyInstance;
  knobs: Knobs;
}

export interface StartOptions extends KnobsOptions {
  adminEnabled?: boolean;
}

/**
 * One fresh database per test file, emptied before each test; one app per test, closed after it.
 * Knobs start from the defaults except failureRate 0, so that no test fails at random.
 */
export function useExpenzy() {
  let db: TestDatabase;
  let pool: pg.Pool;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    db = await createExpenzyDatabase();
    pool = createPool(db.ownerUrl);
    await migrateExpenzy(pool);
  });
  beforeEach(async () => {
    await pool.query('DELETE FROM expenzy_transaction');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  return {
    get pool() {
      return pool;
    },
    async start(settings: Partial<KnobSettings> = {}, options: StartOptions = {}): Promise<Simulator> {
      const { adminEnabled = true, ...knobOptions } = options;
      const knobs = new Knobs({ failureRate: 0, ...settings }, { seed: 1, ...knobOptions });
      const app = buildExpenzyApp({ pool, knobs, adminEnabled });
      apps.push(app);
      await app.ready();
      return { app, knobs };
    },
  };
}

export const listPayouts = (app: FastifyInstance, state?: string) =>
  app.inject({ method: 'POST', url: `/api/transaction/${state === undefined ? '' : `?state=${state}`}` });

export const updatePayout = (app: FastifyInstance, id: string, state?: string) =>
  app.inject({
    method: 'POST',
    url: `/api/transaction/${id}/`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: state === undefined ? '' : new URLSearchParams({ state }).toString(),
  });

export const countPayouts = (app: FastifyInstance) =>
  app.inject({ method: 'GET', url: '/api/transaction/count' });

export interface PayoutRow {
  id?: string;
  amount?: string;
  createTime?: string;
  recipient?: string;
  state?: string;
  updateCount?: number;
  malformed?: string | null;
}

/** A payout written straight to the table, for exact timestamps, states and counters. */
export async function insertPayout(pool: pg.Pool, row: PayoutRow = {}): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO expenzy_transaction
       (id, amount, create_time, recipient_account_identifier, state, state_update_count, malformed_kind)
     VALUES (coalesce($1, gen_random_uuid()), $2, coalesce($3, clock_timestamp()), $4, $5, $6, $7)
     RETURNING id`,
    [
      row.id ?? null,
      row.amount ?? '12.30',
      row.createTime ?? null,
      row.recipient ?? 'FI0012345600000785',
      row.state ?? 'notifying',
      row.updateCount ?? 0,
      row.malformed ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function storedPayout(pool: pg.Pool, id: string) {
  const { rows } = await pool.query<{ state: string; state_update_count: number; amount: string }>(
    'SELECT state, state_update_count, amount::text AS amount FROM expenzy_transaction WHERE id = $1',
    [id],
  );
  return rows[0];
}
