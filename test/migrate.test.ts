import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateHolvi } from '../src/db/migrate.js';
import { createHolviDatabase, type TestDatabase } from './support/databases.js';

describe('Holvi migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createHolviDatabase();
  });
  afterAll(async () => db.drop());

  it('are idempotent: a second run applies nothing', async () => {
    expect(await migrateHolvi(db.ownerUrl)).toEqual([]);
  });

  it('give the service role rows but not the schema', async () => {
    const client = new pg.Client({ connectionString: db.appUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
         VALUES ($1, now(), '12.30', 'FI00')`,
        ['7d0e3b5c-54f6-4b0e-9d0c-3a6b1d8f2e11'],
      );
      await expect(client.query('DELETE FROM holvi_received_payout')).rejects.toThrow(/permission denied/);
      await expect(client.query('DROP TABLE holvi_received_payout')).rejects.toThrow(/must be owner/);
    } finally {
      await client.end();
    }
  });

  it('reject a second row for the same Expenzy id', async () => {
    const client = new pg.Client({ connectionString: db.appUrl });
    await client.connect();
    try {
      const insert = `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
                      VALUES ('0b9f3c1e-2a4d-4c6e-8f10-1a2b3c4d5e6f', now(), '1.00', 'X')`;
      await client.query(insert);
      await expect(client.query(insert)).rejects.toThrow(/holvi_received_payout_expenzy_uuid_key/);
    } finally {
      await client.end();
    }
  });
});
