/**
 * What PostgreSQL cannot store as text: U+0000 (refused in text, and as the escape \u0000 in
 * jsonb) and UTF-16 surrogates without their pair (not Unicode text: pg's UTF-8 encoder would
 * silently turn one into U+FFFD in a text column, and jsonb refuses its \udXXX escape).
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const EVERY_UNSTORABLE = new RegExp(UNSTORABLE.source, 'g');

/** The first character of `text` PostgreSQL cannot store, described for a reason text; null if none. */
export function unstorableCharacter(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\u0000'
    ? 'U+0000 (PostgreSQL cannot store it)'
    : `a lone surrogate ${codePointName(match[0])} (not Unicode text)`;
}

/**
 * `text` as PostgreSQL can store it: each U+0000 or lone surrogate becomes its JSON escape as
 * visible characters (`\u0000`, `\ud800`), so a person reading the row sees what was there.
 */
export function pgText(text: string): string {
  return text.replace(EVERY_UNSTORABLE, (character) => `\\u${hex4(character)}`);
}

/**
 * The JSON text of `value` (a value JSON.parse made) that a `::jsonb` cast accepts: every string,
 * object keys included, goes through pgText(), wherever it is nested. Strings without such
 * characters are left as they are.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(storable(value)) ?? 'null';
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return pgText(value);
  if (Array.isArray(value)) return value.map(storable);
  if (typeof value === 'object' && value !== null) {
    // fromEntries defines own properties: a key "__proto__" stays a key, as JSON.parse made it.
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [pgText(key), storable(inner)]));
  }
  return value;
}

const hex4 = (character: string) => character.charCodeAt(0).toString(16).padStart(4, '0');
const codePointName = (character: string) => `U+${hex4(character).toUpperCase()}`;
