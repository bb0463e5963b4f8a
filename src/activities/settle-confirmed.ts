import { log } from '@temporalio/activity';
import { listedIds } from '../partner/payout-parser.js';
import type { ActivityDependencies } from './dependencies.js';

/**
 * Repairs the crash window "the partner applied our update, but our row does not say so yet"
 * (worker killed between the two, or the partner's answer lost after it committed).
 * Only Holvi moves a payout out of `notifying`, and passes never overlap, so a recorded,
 * unconfirmed payout that the partner no longer lists as `notifying` (nor as `error`) was
 * set to `processing` by us: record that, and never send the update a second time.
 * `unconfirmed`: every recorded row whose update is not confirmed. Returns how many it settled.
 */
export async function settleConfirmedByPartner(
  pool: ActivityDependencies['pool'],
  expenzy: ActivityDependencies['expenzy'],
  unconfirmed: string[],
  stillNotifying: ReadonlySet<string>,
): Promise<number> {
  const candidates = unconfirmed.filter((id) => !stillNotifying.has(id));
  if (candidates.length === 0) return 0;

  const inError = listedIds(await expenzy.listTransactions('error'));
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
