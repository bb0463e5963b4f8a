import { log } from '@temporalio/activity';
import type { Payout } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';

export interface RecordResult {
  inserted: number;
  alreadyRecorded: number;
}

/**
 * RecordPayout: stores a batch in holvi_received_payout in one round trip.
 * Absorbs: any retry (a crash after commit, a lost completion) — the unique constraint on
 * expenzy_uuid plus ON CONFLICT DO NOTHING make a repeat insert a no-op, not an error.
 * Money and times go to PostgreSQL as text, so nothing is rounded on the way.
 */
export function createRecordPayout({ pool, metrics }: ActivityDependencies) {
  return async function RecordPayout(payouts: Payout[]): Promise<RecordResult> {
    if (payouts.length === 0) return { inserted: 0, alreadyRecorded: 0 };
    const { rows } = await pool.query<{ expenzy_uuid: string }>(
      `INSERT INTO holvi_received_payout (expenzy_uuid, create_time, amount, recipient_account_identifier)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::numeric[], $4::varchar[])
       ON CONFLICT (expenzy_uuid) DO NOTHING
       RETURNING expenzy_uuid`,
      [
        payouts.map((p) => p.expenzyId),
        payouts.map((p) => p.createTime),
        payouts.map((p) => p.amount),
        payouts.map((p) => p.recipient),
      ],
    );
    metrics?.payoutsRecorded.inc(rows.length);
    const result = { inserted: rows.length, alreadyRecorded: payouts.length - rows.length };
    log.info('recorded payouts', { ...result, expenzyIds: rows.slice(0, 50).map((row) => row.expenzy_uuid) });
    return result;
  };
}
