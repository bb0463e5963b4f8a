import { describe, expect, it } from 'vitest';
import { comparePayouts, reportFrom, type ExpenzyRow, type HolviRow } from '../../tools/report/index.js';
import { recordedTwice, reportViolations, updatedTwice } from '../../tools/soak/invariants.js';

// The soak's invariants turn what the databases hold into a list of violations, one per payout
// (tools/soak/invariants.ts); the queries themselves run in test/soak-seed-*.test.ts.

const partner = (id: string, overrides: Partial<ExpenzyRow> = {}): ExpenzyRow => ({
  id,
  amount: '12.30',
  recipient: 'FI2112345600000785',
  createMicros: '1764150000000000',
  state: 'processing',
  updateCount: 1,
  malformed: false,
  listedId: id,
  ...overrides,
});

const holvi = (id: string, overrides: Partial<HolviRow> = {}): HolviRow => ({
  uuid: id,
  amount: '12.30',
  recipient: 'FI2112345600000785',
  createMicros: '1764150000000000',
  receivedMicros: '1764150000100000',
  confirmedMicros: '1764150000200000',
  ...overrides,
});

const ids = Array.from({ length: 9 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);

describe('soak invariants', () => {
  it('names each payout updated more than once, and only those', () => {
    expect(
      updatedTwice([
        { id: ids[0]!, state: 'processing', count: 1 },
        { id: ids[1]!, state: 'processing', count: 2 },
        { id: ids[2]!, state: 'error', count: 3 },
      ]),
    ).toEqual([
      {
        invariant: 'updated-twice',
        subject: ids[1],
        detail: 'updated 2 times at the partner (now processing)',
      },
      { invariant: 'updated-twice', subject: ids[2], detail: 'updated 3 times at the partner (now error)' },
    ]);
  });

  it('names each payout recorded more than once, and only those', () => {
    expect(
      recordedTwice([
        { id: ids[0]!, count: 1 },
        { id: ids[3]!, count: 2 },
      ]),
    ).toEqual([{ invariant: 'recorded-twice', subject: ids[3], detail: '2 rows in holvi_received_payout' }]);
  });

  it('finds nothing in a consistent report', () => {
    const report = reportFrom(
      comparePayouts({ received: [holvi(ids[0]!)], rejectedIds: [] }, [partner(ids[0]!)]),
      true,
    );
    expect(reportViolations(report)).toEqual([]);
  });

  it('lists each missing payout the report names, then how many more, and every other failed check once', () => {
    const missing = ids.slice(1, 8).map((id) => partner(id, { state: 'notifying', updateCount: 0 }));
    const report = reportFrom(
      comparePayouts({ received: [holvi(ids[0]!, { amount: '12.31' })], rejectedIds: [] }, [
        partner(ids[0]!),
        ...missing,
      ]),
      true,
    );
    const found = reportViolations(report);
    const missingFound = found.filter((violation) => violation.invariant === 'missing');
    // The report names the first five; the rest are counted.
    expect(missingFound.map((violation) => violation.subject)).toEqual([...ids.slice(1, 6), 'missing']);
    expect(missingFound.at(-1)?.detail).toBe('and 2 more missing');
    const others = found.filter((violation) => violation.invariant === 'report');
    expect(others.map((violation) => violation.subject)).toContain('amountMismatch');
    expect(others.find((violation) => violation.subject === 'amountMismatch')?.detail).toContain(ids[0]);
    // Repeated updates and duplicates are the continuous invariants' (with every id), not repeated here.
    expect(found.some((violation) => ['maxUpdateCount', 'duplicates'].includes(violation.subject))).toBe(
      false,
    );
  });
});
