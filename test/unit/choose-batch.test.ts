import { describe, expect, it } from 'vitest';
import { chooseBatch } from '../../src/activities/choose-batch.js';
import type { Payout } from '../../src/shared.js';

const payout = (n: number): Payout => ({
  expenzyId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  amount: '1.00',
  createTime: `2026-11-26T10:00:${String(n).padStart(2, '0')}.000000Z`,
  recipient: 'FI00',
});

describe('chooseBatch', () => {
  const payouts = Array.from({ length: 10 }, (_, i) => payout(i));

  it('takes the oldest unrecorded payouts and says how many are left', () => {
    const { batch, remaining } = chooseBatch(payouts, new Map(), 4);
    expect(batch).toEqual(payouts.slice(0, 4));
    expect(remaining).toBe(6);
  });

  it('never lets payouts the partner keeps refusing crowd out new ones', () => {
    // The four oldest are recorded but their update keeps failing.
    const recorded = new Map(payouts.slice(0, 4).map((p) => [p.expenzyId, { confirmed: false }]));
    const { batch, remaining } = chooseBatch(payouts, recorded, 4);
    expect(batch.map((p) => p.expenzyId)).toEqual(
      [...payouts.slice(4, 8), ...payouts.slice(0, 4)].map((p) => p.expenzyId),
    );
    expect(remaining).toBe(2);
  });

  it('leaves out payouts already confirmed (the partner lists them by mistake)', () => {
    const recorded = new Map([[payouts[0]!.expenzyId, { confirmed: true }]]);
    const { batch, remaining } = chooseBatch(payouts.slice(0, 3), recorded, 10);
    expect(batch).toEqual(payouts.slice(1, 3));
    expect(remaining).toBe(0);
  });
});
