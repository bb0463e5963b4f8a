import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, migrateExpenzy } from '../../expenzy/db.js';
import { createExpenzyDatabase, type TestDatabase } from '../support/databases.js';

describe('migrateExpenzy', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createExpenzyDatabase();
    pool = createPool(db.ownerUrl);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('creates the table once, even when started several times at once', async () => {
    await Promise.all([migrateExpenzy(pool), migrateExpenzy(pool), migrateExpenzy(pool)]);
    await migrateExpenzy(pool);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'expenzy_transaction'`,
    );
    expect(rows[0].n).toBe(1);
  });

  it('has exactly the columns the Holvi report tool reads', async () => {
    const { rows } = await pool.query(
      `SELECT column_name, data_type, numeric_precision, numeric_scale, character_maximum_length,
              is_nullable, column_default
         FROM information_schema.columns
        WHERE table_name = 'expenzy_transaction'
        ORDER BY ordinal_position`,
    );
    expect(rows.map((row) => [row.column_name, row.data_type, row.is_nullable])).toEqual([
      ['id', 'uuid', 'NO'],
      ['amount', 'numeric', 'NO'],
      ['create_time', 'timestamp with time zone', 'NO'],
      ['recipient_account_identifier', 'character varying', 'NO'],
      ['state', 'text', 'NO'],
      ['state_update_count', 'integer', 'NO'],
      ['malformed_kind', 'text', 'YES'],
    ]);
    expect(rows[1]).toMatchObject({ numeric_precision: 16, numeric_scale: 2 });
    expect(rows[2].column_default).toBe('clock_timestamp()');
    expect(rows[3].character_maximum_length).toBe(20);
    expect(rows[4].column_default).toBe(`'notifying'::text`);
    expect(rows[5].column_default).toBe('0');
  });

  it('allows only the three states, and indexes (state, create_time)', async () => {
    const insert = (state: string) =>
      pool.query(
        `INSERT INTO expenzy_transaction (id, amount, recipient_account_identifier, state)
         VALUES (gen_random_uuid(), 1, 'FI1', $1)`,
        [state],
      );
    for (const state of ['notifying', 'processing', 'error']) await insert(state);
    await expect(insert('pending')).rejects.toThrow(/check constraint/);

    const { rows } = await pool.query(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'expenzy_transaction'`,
    );
    expect(rows.map((row) => row.indexdef)).toContainEqual(expect.stringMatching(/\(state, create_time\)$/));
  });
});
