import type pg from 'pg';
import type { PayoutDefect } from './knobs.js';
import { payoutJson, type Rendering } from './render.js';

export interface NewPayout {
  id: string;
  /** Two decimals, as text: money never passes through a JS number here. */
  amount: string;
  recipient: string;
  malformedKind: PayoutDefect | null;
}

export interface PayoutCounts {
  total_num_transactions: number;
  processing_num_transactions: number;
  max_update_count: number;
}

/** The simulator's SQL. List and update answers come back as ready JSON text. */
export function createPayoutStore(pool: pg.Pool) {
  return {
    async list(state: string | undefined, rendering: Rendering): Promise<string> {
      const { rows } = await pool.query<{ body: string }>(
        `SELECT coalesce(json_agg(${payoutJson(rendering)} ORDER BY create_time DESC), '[]')::text AS body
           FROM expenzy_transaction
          WHERE $1::text IS NULL OR state = $1`,
        [state ?? null],
      );
      return rows[0]!.body;
    },

    // No transition check, as at the partner: processing -> processing succeeds and counts again.
    async updateState(id: string, state: string, rendering: Rendering) {
      const { rows } = await pool.query<{ body: string; updated: number }>(
        `WITH updated AS (
           UPDATE expenzy_transaction
              SET state = $1, state_update_count = state_update_count + 1
            WHERE id = $2
        RETURNING *)
         SELECT coalesce(json_agg(${payoutJson(rendering)}), '[]')::text AS body, count(*)::int AS updated
           FROM updated`,
        [state, id],
      );
      return { body: rows[0]!.body, updated: rows[0]!.updated > 0 };
    },

    async counts(): Promise<PayoutCounts> {
      const { rows } = await pool.query<PayoutCounts>(
        `SELECT count(*)::int AS total_num_transactions,
                count(*) FILTER (WHERE state = 'processing')::int AS processing_num_transactions,
                coalesce(max(state_update_count) FILTER (WHERE state = 'processing'), 0) AS max_update_count
           FROM expenzy_transaction`,
      );
      return rows[0]!;
    },

    async insert(payout: NewPayout): Promise<void> {
      await pool.query(
        `INSERT INTO expenzy_transaction (id, amount, recipient_account_identifier, malformed_kind)
         VALUES ($1, $2::numeric, $3, $4)`,
        [payout.id, payout.amount, payout.recipient, payout.malformedKind],
      );
    },

    /** Every column, undisguised, newest first: for debugging. */
    async raw(): Promise<string> {
      const { rows } = await pool.query<{ body: string }>(
        `SELECT coalesce(json_agg(p ORDER BY p.create_time DESC), '[]')::text AS body
           FROM (SELECT id, amount::text AS amount, create_time, recipient_account_identifier, state,
                        state_update_count, malformed_kind
                   FROM expenzy_transaction) p`,
      );
      return rows[0]!.body;
    },

    async reset(): Promise<void> {
      await pool.query('TRUNCATE expenzy_transaction');
    },
  };
}

export type PayoutStore = ReturnType<typeof createPayoutStore>;
