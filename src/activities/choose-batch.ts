import type { Payout } from '../shared.js';

export interface BatchChoice {
  batch: Payout[];
  /** Unrecorded payouts left for later passes. */
  remaining: number;
}

/**
 * Picks one pass's work from the partner's `notifying` list (already oldest first): up to
 * `size` payouts Holvi has not recorded yet, plus up to `size` recorded ones whose update is
 * still unconfirmed. Keeping the two apart means payouts the partner keeps refusing can never
 * crowd new payouts out of the batch.
 */
export function chooseBatch(
  payouts: Payout[],
  recorded: ReadonlyMap<string, { confirmed: boolean }>,
  size: number,
): BatchChoice {
  const unrecorded = payouts.filter((payout) => !recorded.has(payout.expenzyId));
  const unconfirmed = payouts.filter((payout) => recorded.get(payout.expenzyId)?.confirmed === false);
  const fresh = unrecorded.slice(0, size);
  return { batch: [...fresh, ...unconfirmed.slice(0, size)], remaining: unrecorded.length - fresh.length };
}
