import type { KnobSettings, TimeFormat } from './knobs.js';

/**
 * How a stored payout becomes the partner's JSON, as one SQL expression over the columns of
 * expenzy_transaction: the list of 100,000 payouts is built in PostgreSQL, never row by row in JS.
 * Every fragment is a constant chosen by a knob; nothing from a request reaches the SQL text.
 */
export type Rendering = Pick<KnobSettings, 'timeFormat' | 'amountAsNumber'>;

const utc = `(create_time AT TIME ZONE 'UTC')`;

const timeSql: Record<TimeFormat, string> = {
  // Python's isoformat() drops the fraction when the microseconds are zero, and so does the partner.
  iso: `CASE WHEN extract(microseconds FROM create_time) % 1000000 = 0
          THEN to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
          ELSE to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') END`,
  'iso-z': `to_char(${utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  'iso-seconds': `to_char(${utc} + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS"+02:00"')`,
  'http-date': `to_char(${utc}, 'Dy, DD Mon YYYY HH24:MI:SS "GMT"')`,
};

// A payout's defect variant follows from its id, so it is listed the same way every time.
const badAmount = `CASE get_byte(uuid_send(id), 15) % 3
    WHEN 0 THEN left(amount::text, -1) || 'x'
    WHEN 1 THEN '-' || amount::text
    ELSE amount::text || '7' END`;

// One more digit than numeric(16, 2) holds.
const hugeAmount = `'100000000000000.00'`;

// As a JSON number, a bad amount stays a number when it reads as one ("-12.30"), else a string.
const amountSql = (asNumber: boolean) =>
  asNumber
    ? `CASE WHEN malformed_kind = 'huge_amount' THEN to_json(${hugeAmount}::numeric)
            WHEN malformed_kind IS DISTINCT FROM 'bad_amount' THEN to_json(amount)
            WHEN ${badAmount} ~ '^-?[0-9]+[.][0-9]+$' THEN to_json((${badAmount})::numeric)
            ELSE to_json(${badAmount}) END`
    : `to_json(CASE WHEN malformed_kind = 'bad_amount' THEN ${badAmount}
                    WHEN malformed_kind = 'huge_amount' THEN ${hugeAmount}
                    ELSE amount::text END)`;

// A JSON string with an escape appended before its closing quote. PostgreSQL's text cannot hold
// U+0000 or a lone surrogate, but its json type keeps the escape as written (jsonb would not).
const withEscape = (text: string, escape: '\\u0000' | '\\ud800') =>
  `(left(to_json(${text})::text, -1) || '${escape}"')::json`;

const fields = ({ timeFormat, amountAsNumber }: Rendering) => `json_build_object(
  'id', CASE malformed_kind WHEN 'bad_id' THEN to_json('txn-' || left(id::text, 8))
                            WHEN 'nul_id' THEN ${withEscape('id::text', '\\u0000')}
                            ELSE to_json(id::text) END,
  'amount', ${amountSql(amountAsNumber)},
  'create_time', CASE malformed_kind WHEN 'bad_timestamp' THEN to_char(${utc}, 'DD/MM/YYYY HH24:MI')
                                     -- the year 10000 once in UTC
                                     WHEN 'year_10000' THEN '9999-12-31T23:59:59-01:00'
                                     ELSE ${timeSql[timeFormat]} END,
  'recipient_account_identifier', CASE malformed_kind
      WHEN 'long_recipient' THEN to_json(rpad(recipient_account_identifier, 24, '0'))
      WHEN 'missing_field' THEN NULL
      WHEN 'nul_recipient' THEN ${withEscape('recipient_account_identifier', '\\u0000')}
      WHEN 'lone_surrogate' THEN ${withEscape('recipient_account_identifier', '\\ud800')}
      ELSE to_json(recipient_account_identifier) END,
  'state', CASE WHEN malformed_kind = 'unknown_state' THEN 'pending' ELSE state END)`;

/** The JSON object of one payout; `missing_field` leaves the recipient out altogether. */
export function payoutJson(rendering: Rendering): string {
  const payout = fields(rendering);
  return `CASE WHEN malformed_kind = 'missing_field' THEN json_strip_nulls(${payout}) ELSE ${payout} END`;
}
