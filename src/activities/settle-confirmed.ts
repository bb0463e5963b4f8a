import { log } from '@temporalio/activity';
import type { ActivityDependencies } from './dependencies.js';

/**
 * Repairs the crash window "the partner applied our update, but our row does not say so yet"
 * (worker killed between the two, or the partner's answer lost after it committed).
 * Only Holvi moves a payout out of `notifying`, and passes never overlap, so a recorded,
 * unconfirmed payout that the partner no longer lists as `notifying` (nor as `error`) was
 * set to `processing` by us: record that, and never send the update a second time.
 * Returns how many rows it settled.
 */
export async function settleConfirmedByPartner(
  pool: ActivityDependencies['pool'],
  expenzy: ActivityDependencies['expenzy'],
  stillNotifying: ReadonlySet<string>,
): Promise<number> {
  const { rows } = await pool.query<{ expenzy_uuid: string }>(
    'SELECT expenzy_uuid FROM holvi_received_payout WHERE processing_confirmed_at IS NULL',
  );
  const candidates = rows.map((row) => row.expenzy_uuid).filter((id) => !stillNotifying.has(id));
  if (candidates.length === 0) return 0;

  const inError = new Set(
    (await expenzy.listTransactions('error')).flatMap((raw) =>
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? [(raw as { id: string }).id.toLowerCase()]
        : [],
    ),
  );
  const processing = candidates.filter((id) => !inError.has(id));
  if (inError.size > 0 && processing.length < candidates.length) {
    log.error('recorded payouts are in state error at the partner', {
      expenzyIds: candidates.filter((id) => inError.has(id)),
    });
  }
  const { rowCount } = await pool.query(
    `UPDATE holvi_received_payout SET processing_confirmed_at = clock_timestamp()
      WHERE expenzy_uuid = ANY($1::uuid[]) AND processing_confirmed_at IS NULL`,
    [processing],
  );
  if (rowCount)
    log.warn('settled payouts the partner had already set to processing', {
      count: rowCount,
      expenzyIds: processing.slice(0, 20),
    });
  return rowCount ?? 0;
}
