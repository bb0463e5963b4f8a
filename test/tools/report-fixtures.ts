import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrateExpenzy } from '../../expenzy/db.js';
import { createExpenzyDatabase, createHolviDatabase, type TestDatabase } from '../support/databases.js';

/** A fresh Holvi and Expenzy database pair; `holviOwner` seeds, `holviApp` is what the report reads as. */
export interface ReportDatabases {
  holvi: TestDatabase;
  expenzy: TestDatabase;
  holviOwner: pg.Pool;
  holviApp: pg.Pool;
  expenzyPool: pg.Pool;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export async function createReportDatabases(): Promise<ReportDatabases> {
  const [holvi, expenzy] = await Promise.all([createHolviDatabase(), createExpenzyDatabase()]);
  const holviOwner = new pg.Pool({ connectionString: holvi.ownerUrl, max: 2 });
  const holviApp = new pg.Pool({ connectionString: holvi.appUrl, max: 2 });
  const expenzyPool = new pg.Pool({ connectionString: expenzy.ownerUrl, max: 2 });
  await migrateExpenzy(expenzyPool);
  return {
    holvi,
    expenzy,
    holviOwner,
    holviApp,
    expenzyPool,
    async clear() {
      await holviOwner.query('TRUNCATE holvi_received_payout, holvi_rejected_payout');
      await expenzyPool.query('TRUNCATE expenzy_transaction');
    },
    async close() {
      await Promise.all([holviOwner.end(), holviApp.end(), expenzyPool.end()]);
      await Promise.all([holvi.drop(), expenzy.drop()]);
    },
  };
}

export interface PartnerPayout {
  id: string;
  amount: string;
  recipient: string;
  /** Microsecond precision, UTC. */
  createTime: string;
  state: 'notifying' | 'processing' | 'error';
  updateCount: number;
}

let sequence = 0;

/** A processing payout updated once, created at a distinct microsecond-precise instant. */
export function partnerPayout(overrides: Partial<PartnerPayout> = {}): PartnerPayout {
  sequence += 1;
  const createTime = new Date(Date.UTC(2025, 10, 26, 10, 0, sequence))
    .toISOString()
    .replace('.000Z', '.123456+00');
  return {
    id: randomUUID(),
    amount: '12.30',
    recipient: 'FI2112345600000785',
    createTime,
    state: 'processing',
    updateCount: 1,
    ...overrides,
  };
}

export async function insertAtExpenzy(pool: pg.Pool, ...payouts: PartnerPayout[]): Promise<void> {
  for (const p of payouts) {
    await pool.query(
      `INSERT INTO expenzy_transaction (id, amount, create_time, recipient_account_identifier, state, state_update_count)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [p.id, p.amount, p.createTime, p.recipient, p.state, p.updateCount],
    );
  }
}

export interface Received {
  /** After the partner's create_time; null = processing not confirmed yet. */
  receivedAfterMs?: number;
  confirmedAfterMs?: number | null;
}

/** Records the payout at Holvi as the service would, with the partner's values unless overridden. */
export async function insertAtHolvi(
  pool: pg.Pool,
  p: PartnerPayout,
  { receivedAfterMs = 250, confirmedAfterMs = 400 }: Received = {},
): Promise<void> {
  await pool.query(
    `INSERT INTO holvi_received_payout
       (expenzy_uuid, amount, create_time, recipient_account_identifier, received_at, processing_confirmed_at)
     VALUES ($1, $2, $3, $4, $3::timestamptz + make_interval(secs => $5),
             $3::timestamptz + make_interval(secs => $6))`,
    [
      p.id,
      p.amount,
      p.createTime,
      p.recipient,
      receivedAfterMs / 1000,
      confirmedAfterMs === null ? null : confirmedAfterMs / 1000,
    ],
  );
}

export async function insertRejected(pool: pg.Pool, expenzyId: string | null): Promise<void> {
  await pool.query(
    `INSERT INTO holvi_rejected_payout (raw_sha256, expenzy_id, raw, reason) VALUES ($1, $2, $3, 'bad amount')`,
    [randomUUID(), expenzyId, JSON.stringify({ id: expenzyId, amount: 'twelve' })],
  );
}
