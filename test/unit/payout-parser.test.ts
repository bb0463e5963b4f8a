import { describe, expect, it } from 'vitest';
import { InvalidListEntry } from '../../src/partner/list-splitter.js';
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
    [{ ...good, recipient_account_identifier: 'FI\u0001123' }, /control character/],
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

  // What PostgreSQL would refuse is refused here, whichever field holds it, with where and why.
  it.each([
    [{ ...good, recipient_account_identifier: 'FI\u0000123' }, /^recipient_account_identifier holds U\+0000/],
    [{ ...good, id: `${good.id}\u0000` }, /^id holds U\+0000 \(PostgreSQL cannot store it\)/],
    [{ ...good, amount: '12.30\u0000' }, /^amount holds U\+0000/],
    [{ ...good, create_time: '\u00002026-11-26T10:00:00Z' }, /^create_time holds U\+0000/],
    [{ ...good, state: 'notifying\u0000' }, /^state holds U\+0000/],
    [
      { ...good, recipient_account_identifier: 'FI\ud800123' },
      /^recipient_account_identifier holds a lone surrogate U\+D800/,
    ],
    [{ ...good, recipient_account_identifier: 'FI123\udfff' }, /lone surrogate U\+DFFF \(not Unicode text\)/],
    [{ ...good, id: `\udbff${good.id}` }, /^id holds a lone surrogate U\+DBFF/],
    [{ ...good, note: 'extra \u0000' }, /^note holds U\+0000/],
    [{ ...good, meta: { tags: ['ok', '\ud83d'] } }, /^meta\.tags\[1\] holds a lone surrogate U\+D83D/],
    [{ ...good, 'key\u0000': 'x' }, /^a field name "key\\u0000" holds U\+0000/],
    [{ ...good, meta: { '\udc00': 1 } }, /^a field name .* in meta holds a lone surrogate U\+DC00/],
  ])('refuses text PostgreSQL cannot store: %j', (raw, reason) => {
    const parsed = parsePartnerPayout(raw);
    expect(parsed.kind).toBe('rejected');
    if (parsed.kind === 'rejected') expect(parsed.rejected.reason).toMatch(reason);
  });

  it('accepts paired surrogates (an emoji is text like any other)', () => {
    const parsed = parsePartnerPayout({
      ...good,
      recipient_account_identifier: 'FI\u{1f600}1',
      note: '\u{1f4b6}',
    });
    expect(parsed.kind === 'payout' && parsed.payout.recipient).toBe('FI\u{1f600}1');
  });

  it.each([
    ['9999-12-31T23:59:59-01:00', 10000],
    ['9999-12-31T23:30:00-00:31', 10000],
    ['0001-01-01T00:00:00+00:01', 0],
    ['0000-06-01T00:00:00Z', 0],
  ])('refuses %s: in UTC it is in the year %i', (createTime, year) => {
    const parsed = parsePartnerPayout({ ...good, create_time: createTime });
    expect(parsed.kind).toBe('rejected');
    if (parsed.kind === 'rejected') {
      expect(parsed.rejected.reason).toBe(
        `create_time "${createTime}" is in the year ${year} in UTC; only the years 1 to 9999 can be stored`,
      );
    }
  });

  it('keeps the partner id of a rejected payout when it is a string', () => {
    const parsed = parsePartnerPayout({ ...good, amount: 'x' });
    expect(parsed.kind === 'rejected' && parsed.rejected.expenzyId).toBe(good.id);
  });

  it('rejects an entry the list held that is not valid JSON, keeping its text and id', () => {
    const text = `{"id":"${good.id}","amount":NaN}`;
    const reason = `Unexpected token 'N', ..."amount":NaN}" is not valid JSON`;
    expect(parsePartnerPayout(new InvalidListEntry(40, text, good.id, reason))).toEqual({
      kind: 'rejected',
      rejected: {
        expenzyId: good.id,
        reason: `entry of 40 bytes is not valid JSON: ${reason}`,
        raw: { invalidJson: text, length: 40 },
      },
    });
    expect(parsePartnerPayout(new InvalidListEntry(3, 'NaN', null, 'x'))).toMatchObject({
      kind: 'rejected',
      rejected: { expenzyId: null, raw: { invalidJson: 'NaN', length: 3 } },
    });
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
    // The years 1 to 99 are themselves, not 1901 to 1999 (Date.UTC's reading).
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'],
    ['0050-03-01T00:00:00.25+00:00', '0050-03-01T00:00:00.250000Z'],
    ['0099-12-31T23:59:59Z', '0099-12-31T23:59:59.000000Z'],
    ['0004-02-29T12:00:00Z', '0004-02-29T12:00:00.000000Z'],
    ['Mon, 01 Jan 0001 00:00:00 GMT', '0001-01-01T00:00:00.000000Z'],
    // Normalised to UTC, the year is what counts: these land inside 1 to 9999.
    ['0000-12-31T23:30:00-01:00', '0001-01-01T00:30:00.000000Z'],
    ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
    ['Fri, 31 Dec 9999 23:59:59 GMT', '9999-12-31T23:59:59.000000Z'],
  ])('%s -> %s', (input, expected) => expect(parseTimestamp(input)).toBe(expected));

  it.each([
    ['2026-11-26T10:00:00'],
    ['2026-02-30T10:00:00Z'],
    ['2026-11-26T24:00:00Z'],
    ['Wed, 26 Nov 2026 10:00:00 GMT'],
    ['2026-11-26T10:00:00+99:99'],
    ['2026-11-26T10:00:00+15:00'],
    ['2026-11-26T10:00:00.1234567Z'],
    ['9999-12-31T23:59:59-01:00'],
    ['0001-01-01T00:59:59+01:00'],
    ['0000-01-01T00:00:00Z'],
    ['10000-01-01T00:00:00Z'],
    ['0100-02-29T00:00:00Z'],
    ['Sat, 31 Dec 9999 23:59:59 GMT'],
    ['yesterday'],
    [1764150000],
  ])('refuses %j', (input) => expect(parseTimestamp(input)).toBeNull());
});
