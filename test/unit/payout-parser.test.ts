import { describe, expect, it } from 'vitest';
import { parseAmount, parsePartnerPayout, parseTimestamp } from '../../src/partner/payout-parser.js';

const good = {
  id: '3F2504E0-4F89-41D3-9A0C-0305E82C3301',
  amount: '12.30',
  create_time: '2026-11-26T10:00:00.123456+00:00',
  recipient_account_identifier: 'FI2112345600000785',
  state: 'notifying',
};

describe('parsePartnerPayout', () => {
  it('normalises a valid payout', () => {
    expect(parsePartnerPayout(good)).toEqual({
      kind: 'payout',
      payout: {
        expenzyId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
        amount: '12.30',
        createTime: '2026-11-26T10:00:00.123456Z',
        recipient: 'FI2112345600000785',
      },
    });
  });

  it.each([
    [{ ...good, id: 'txn-1234' }, /id "txn-1234" is not a uuid/],
    [{ ...good, amount: '12.3x' }, /amount "12.3x"/],
    [{ ...good, amount: '-5.00' }, /amount/],
    [{ ...good, amount: '1.234' }, /amount/],
    [{ ...good, amount: '0.00' }, /amount/],
    [{ ...good, recipient_account_identifier: 'X'.repeat(21) }, /recipient_account_identifier/],
    [{ ...good, recipient_account_identifier: '' }, /recipient_account_identifier/],
    [{ ...good, recipient_account_identifier: 'FI\u0000123' }, /control character/],
    [{ ...good, create_time: '26/11/2026 10:00' }, /create_time/],
    [{ ...good, create_time: '2026-11-26T10:00:00' }, /create_time/],
    [{ ...good, state: 'pending' }, /state "pending" is unknown/],
    [
      (({ recipient_account_identifier: _, ...rest }) => rest)(good),
      /missing field recipient_account_identifier/,
    ],
    ['just a string', /not a JSON object/],
  ])('rejects %j with a reason', (raw, reason) => {
    const parsed = parsePartnerPayout(raw);
    expect(parsed.kind).toBe('rejected');
    if (parsed.kind === 'rejected') {
      expect(parsed.rejected.reason).toMatch(reason);
      expect(parsed.rejected.raw).toBe(raw);
    }
  });

  it('keeps the partner id of a rejected payout when it is a string', () => {
    const parsed = parsePartnerPayout({ ...good, amount: 'x' });
    expect(parsed.kind === 'rejected' && parsed.rejected.expenzyId).toBe(good.id);
  });

  it('ignores valid payouts in a state that is not ours to act on', () => {
    expect(parsePartnerPayout({ ...good, state: 'processing' })).toMatchObject({
      kind: 'ignored',
      state: 'processing',
    });
  });
});

describe('parseAmount', () => {
  it.each([
    ['12.30', '12.30'],
    ['12.3', '12.30'],
    ['12', '12.00'],
    ['007.05', '7.05'],
    [12.3, '12.30'],
    [99.99, '99.99'],
    [5, '5.00'],
    ['99999999999999.99', '99999999999999.99'],
    [1e3, '1000.00'],
    [9999999999999.99, '9999999999999.99'],
  ])('%j -> %s', (input, expected) => expect(parseAmount(input)).toBe(expected));

  it.each([
    ['1.234'],
    [1.234],
    [1e21],
    [-1],
    [0],
    ['0'],
    [Number.NaN],
    [null],
    ['1,00'],
    [' 1.00'],
    [0.1 + 0.2],
  ])('refuses %j', (input) => expect(parseAmount(input)).toBeNull());
});

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-26T10:00:00.123456+00:00', '2026-11-26T10:00:00.123456Z'],
    ['2026-11-26T10:00:00.123456Z', '2026-11-26T10:00:00.123456Z'],
    ['2026-11-26T12:00:00+02:00', '2026-11-26T10:00:00.000000Z'],
    ['2026-11-26T00:30:00.5-0130', '2026-11-26T02:00:00.500000Z'],
    ['2026-11-26 10:00:00.1Z', '2026-11-26T10:00:00.100000Z'],
    ['Thu, 26 Nov 2026 10:00:00 GMT', '2026-11-26T10:00:00.000000Z'],
    ['2024-02-29T23:59:59+00:00', '2024-02-29T23:59:59.000000Z'],
  ])('%s -> %s', (input, expected) => expect(parseTimestamp(input)).toBe(expected));

  it.each([
    ['2026-11-26T10:00:00'],
    ['2026-02-30T10:00:00Z'],
    ['2026-11-26T24:00:00Z'],
    ['Wed, 26 Nov 2026 10:00:00 GMT'],
    ['2026-11-26T10:00:00+99:99'],
    ['2026-11-26T10:00:00+15:00'],
    ['2026-11-26T10:00:00.1234567Z'],
    ['yesterday'],
    [1764150000],
  ])('refuses %j', (input) => expect(parseTimestamp(input)).toBeNull());
});
