import { log } from '@temporalio/activity';
import { settleStaged } from '../db/payout-store.js';
import type { PassRef, SettleResult } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';
import { heartbeatWhile } from './heartbeat-while.js';

/**
 * SettleApplied: confirms the recorded rows that the pass's list proved the partner had already
 * set to `processing` (a 500 after commit, a worker killed between the call and our UPDATE).
 * The proof was taken inside the fence by FetchTransactions: the row was recorded before the
 * list, nothing of ours was in flight, and the list shows it neither as `notifying` nor `error`.
 * Such a payout never gets a second update.
 * A recorded row the partner lists in `error` instead reaches its final state (kept with the
 * reason; a metric and an alert call a person): later passes stop looking for it.
 * Absorbs: any retry: a confirmed row is never confirmed again. Needs no fence: it only writes
 * down what the partner already did.
 */
export function createSettleApplied({ pool, metrics }: ActivityDependencies) {
  return async function SettleApplied({ passId }: PassRef): Promise<SettleResult> {
    const { settled, inError } = await heartbeatWhile(() => settleStaged(pool, passId));
    metrics?.payoutsMarked.inc(settled.length);
    if (settled.length > 0) {
      log.warn('settled payouts the partner had already set to processing', {
        passId,
        count: settled.length,
        expenzyIds: settled.slice(0, 20),
      });
    }
    metrics?.recordedInError.inc(inError.length);
    if (inError.length > 0) {
      log.error('recorded payouts are in state error at the partner: kept as final, never marked', {
        count: inError.length,
        expenzyIds: inError.slice(0, 20),
      });
    }
    return { settled: settled.length, inError: inError.length };
  };
}
