import { unstorableCharacter } from '../db/pg-text.js';
import { InvalidListEntry, OversizeListEntry } from './list-splitter.js';

/** A payout as Holvi stores it, validated and normalised. Money stays a decimal string. */
export interface Payout {
  expenzyId: string;
  /** Two decimals, e.g. "12.30". */
  amount: string;
  /** UTC, ISO 8601 with the partner's fraction kept (up to microseconds), e.g. 2026-11-26T10:00:00.123456Z. */
  createTime: string;
  recipient: string;
}

/** A payout the partner listed that failed validation; quarantined, never recorded. */
export interface RejectedPayout {
  /** The id as the partner sent it, when there was a string id at all. */
  expenzyId: string | null;
  reason: string;
  /** The JSON object exactly as listed. */
  raw: unknown;
}

/**
 * Validates one payout as the partner lists it. The partner's documentation is approximate,
 * so every unambiguous form is accepted and normalised; anything else is rejected with a
 * reason a person can act on. Money never becomes a JavaScript number. What PostgreSQL would
 * refuse to store is refused here, up front (U+0000 or a lone surrogate in any string, a year
 * outside 1 to 9999): a valid payout can always be recorded.
 */
export type ParsedPayout =
  | { kind: 'payout'; payout: Payout }
  | { kind: 'rejected'; rejected: RejectedPayout }
  /** A valid payout in a state that is not ours to act on (e.g. already `processing`). */
  | { kind: 'ignored'; expenzyId: string; state: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STATES = new Set(['notifying', 'processing', 'error']);
const MAX_RECIPIENT_LENGTH = 20;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const REQUIRED = ['id', 'amount', 'create_time', 'recipient_account_identifier', 'state'] as const;

export function parsePartnerPayout(raw: unknown): ParsedPayout {
  if (raw instanceof OversizeListEntry) {
    return {
      kind: 'rejected',
      rejected: {
        expenzyId: raw.id,
        reason: `entry of ${raw.bytes} bytes, more than EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: not read`,
        raw: { truncated: raw.prefix, length: raw.bytes },
      },
    };
  }
  if (raw instanceof InvalidListEntry) {
    return {
      kind: 'rejected',
      rejected: {
        expenzyId: raw.id,
        reason: `entry of ${raw.bytes} bytes is not valid JSON: ${raw.reason}`,
        raw: { invalidJson: raw.text, length: raw.bytes },
      },
    };
  }
  const rawId = isObject(raw) && typeof raw.id === 'string' ? raw.id : null;
  const reject = (reason: string): ParsedPayout => ({
    kind: 'rejected',
    rejected: { expenzyId: rawId, reason, raw },
  });

  if (!isObject(raw)) return reject('payout is not a JSON object');
  const unstorable = unstorableString(raw);
  if (unstorable !== null) return reject(unstorable);
  const missing = REQUIRED.filter((field) => raw[field] === undefined || raw[field] === null);
  if (missing.length > 0) return reject(`missing field ${missing.join(', ')}`);

  if (typeof raw.id !== 'string' || !UUID.test(raw.id)) return reject(`id ${describe(raw.id)} is not a uuid`);
  const amount = parseAmount(raw.amount);
  if (amount === null)
    return reject(`amount ${describe(raw.amount)} is not a positive amount with at most two decimals`);
  const createTime = readTimestamp(raw.create_time);
  if ('refused' in createTime) {
    return reject(
      createTime.refused === 'form'
        ? `create_time ${describe(raw.create_time)} is not an ISO 8601 or HTTP date with a time zone`
        : `create_time ${describe(raw.create_time)} is in the year ${createTime.year} in UTC; only the years 1 to 9999 can be stored`,
    );
  }
  const recipient = raw.recipient_account_identifier;
  if (typeof recipient !== 'string' || recipient.length === 0 || recipient.length > MAX_RECIPIENT_LENGTH) {
    return reject(
      `recipient_account_identifier ${describe(recipient)} is not a string of 1 to ${MAX_RECIPIENT_LENGTH} characters`,
    );
  }
  // Control characters have no place in an account identifier.
  if (CONTROL_CHARACTER.test(recipient)) {
    return reject(`recipient_account_identifier ${describe(recipient)} contains a control character`);
  }
  if (typeof raw.state !== 'string' || !STATES.has(raw.state))
    return reject(`state ${describe(raw.state)} is unknown`);

  const expenzyId = raw.id.toLowerCase();
  if (raw.state !== 'notifying') return { kind: 'ignored', expenzyId, state: raw.state };
  return { kind: 'payout', payout: { expenzyId, amount, createTime: createTime.utc, recipient } };
}

/**
 * Where the payout holds a string PostgreSQL cannot store (U+0000, a lone surrogate), in any
 * field, nested or not, field names included; null when it holds none. Fields Holvi does not
 * store count too: a partner sending such text has sent something broken.
 */
function unstorableString(payout: Record<string, unknown>): string | null {
  const queue: [path: string, value: unknown][] = [['', payout]];
  for (let next = 0; next < queue.length; next++) {
    const [path, value] = queue[next]!;
    if (typeof value === 'string') {
      const found = unstorableCharacter(value);
      if (found !== null) return `${path} holds ${found}`;
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => queue.push([`${path}[${index}]`, item]));
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        const found = unstorableCharacter(key);
        if (found !== null) return `a field name ${describe(key)}${path ? ` in ${path}` : ''} holds ${found}`;
        queue.push([path ? `${path}.${key}` : key, item]);
      }
    }
  }
  return null;
}

/** A double keeps 15 significant digits: 13 before the point and 2 after are exact. */
const MAX_EXACT_NUMBER_AMOUNT = 1e13;
const AMOUNT = /^(\d{1,14})(?:\.(\d{1,2}))?$/;

/**
 * "12.3", "12.30", 12.3 and 12 all mean 12.30; "1.234", 1.234, "-5.00" and 0 are refused. A JSON
 * number was already a binary double when JSON.parse made it, so only magnitudes a double holds
 * to the cent are accepted as numbers (strings may be longer).
 */
export function parseAmount(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Math.abs(value) < MAX_EXACT_NUMBER_AMOUNT) text = String(value);
  else return null;
  const match = AMOUNT.exec(text);
  if (!match) return null;
  const whole = match[1]!.replace(/^0+(?=\d)/, '');
  const cents = (match[2] ?? '').padEnd(2, '0');
  if (/^0+$/.test(whole) && cents === '00') return null;
  return `${whole}.${cents}`;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?(Z|[+-]\d{2}(?::?\d{2})?)$/i;
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * Normalises to UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`, keeping the partner's microseconds
 * (a JavaScript Date would drop them). A time without a zone is ambiguous and refused, and so is
 * one outside the years 1 to 9999 once in UTC (PostgreSQL reads no other form of year:
 * `9999-12-31T23:59:59-01:00` is in the year 10000).
 */
export function parseTimestamp(value: unknown): string | null {
  const read = readTimestamp(value);
  return 'utc' in read ? read.utc : null;
}

type ReadTimestamp = { utc: string } | { refused: 'form' } | { refused: 'year'; year: number };

function readTimestamp(value: unknown): ReadTimestamp {
  if (typeof value !== 'string') return { refused: 'form' };
  const iso = ISO.exec(value);
  if (iso) {
    const [, y, mo, d, h, mi, s, fraction, zone] = iso;
    const localMs = utcMillis(+y!, +mo!, +d!, +h!, +mi!, +s!);
    const offset = zoneOffsetMinutes(zone!);
    if (localMs === null || offset === null) return { refused: 'form' };
    return inStorableYears(localMs - offset * 60_000, (fraction ?? '').padEnd(6, '0'));
  }
  const http = HTTP_DATE.exec(value);
  if (http) {
    const [, weekday, d, mon, y, h, mi, s] = http;
    const utcMs = utcMillis(+y!, MONTHS.indexOf(mon!) + 1, +d!, +h!, +mi!, +s!);
    if (utcMs === null || WEEKDAYS[new Date(utcMs).getUTCDay()] !== weekday) return { refused: 'form' };
    return inStorableYears(utcMs, '000000');
  }
  return { refused: 'form' };
}

function inStorableYears(utcMs: number, micros: string): ReadTimestamp {
  const year = new Date(utcMs).getUTCFullYear();
  if (year < 1 || year > 9999) return { refused: 'year', year };
  return { utc: formatUtc(utcMs, micros) };
}

/** The instant of a wall-clock time in UTC, or null when no such date or time exists. */
function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number): number | null {
  // Not Date.UTC: it reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const ms = date.getTime();
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return exact ? ms : null;
}

/** Minutes east of UTC, or null for an offset no time zone has (beyond ±14:00). */
function zoneOffsetMinutes(zone: string): number | null {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  if (minutes > 59 || hours * 60 + minutes > 14 * 60) return null;
  return sign * (hours * 60 + minutes);
}

function formatUtc(utcMs: number, micros: string): string {
  return new Date(utcMs).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, safe rendering of a rejected value for the reason text. */
function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export const isUuid = (value: string): boolean => UUID.test(value);

/** The ids of listed entries that are uuids, lower-cased as PostgreSQL prints them; the rest unread. */
export const listedUuids = (entries: unknown[]): string[] =>
  entries.flatMap((raw) => {
    const id = (raw as { id?: unknown } | null)?.id;
    return typeof id === 'string' && isUuid(id) ? [id.toLowerCase()] : [];
  });
