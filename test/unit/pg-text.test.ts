import { describe, expect, it } from 'vitest';
import { jsonbText, pgText, unstorableCharacter } from '../../src/db/pg-text.js';

// jsonb refuses the escapes \u0000 and an unpaired \ud800-\udfff; text columns refuse U+0000.
const REFUSED_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

describe('pgText', () => {
  it.each([
    ['a\u0000b', 'a\\u0000b'],
    ['\u0000\u0000', '\\u0000\\u0000'],
    ['x\ud800', 'x\\ud800'],
    ['\udfffx', '\\udfffx'],
    // a low surrogate before a high one pairs with nothing: both are lone
    ['\udc00\ud800', '\\udc00\\ud800'],
    ['\ud83d\ud83d\ude00', '\\ud83d\ud83d\ude00'],
  ])('%j -> %j', (input, expected) => expect(pgText(input)).toBe(expected));

  it.each([['plain'], ['\u{1f600} paired'], ['\\u0000 as six characters'], ['\u0001 other controls'], ['']])(
    'leaves %j as it is',
    (input) => expect(pgText(input)).toBe(input),
  );
});

describe('unstorableCharacter', () => {
  it.each([
    ['a\u0000', 'U+0000 (PostgreSQL cannot store it)'],
    ['\ud800', 'a lone surrogate U+D800 (not Unicode text)'],
    ['ok\udc01', 'a lone surrogate U+DC01 (not Unicode text)'],
    ['\u{1f600}', null],
    ['\\u0000', null],
  ])('%j -> %j', (input, expected) => expect(unstorableCharacter(input)).toBe(expected));
});

describe('jsonbText', () => {
  it('escapes U+0000 and lone surrogates in every string, keys and nested values included', () => {
    const raw = {
      'id\u0000': 'x\u0000y',
      nested: { deeper: ['ok', '\ud800', { '\udfff': '\u0000' }] },
      fine: 'caf\u00e9 \u{1f600}',
      n: 12.5,
      none: null,
      yes: true,
    };
    const text = jsonbText(raw);
    expect(text).not.toMatch(REFUSED_ESCAPE);
    expect(JSON.parse(text)).toEqual({
      'id\\u0000': 'x\\u0000y',
      nested: { deeper: ['ok', '\\ud800', { '\\udfff': '\\u0000' }] },
      fine: 'caf\u00e9 \u{1f600}',
      n: 12.5,
      none: null,
      yes: true,
    });
  });

  it('writes JSON as JSON.stringify does when nothing needs escaping', () => {
    const raw = { a: [1, 'two', { three: '\\u0000 literal' }], b: '\u0001\n"' };
    expect(jsonbText(raw)).toBe(JSON.stringify(raw));
  });

  it('keeps a key named __proto__ as a key', () => {
    const raw = JSON.parse('{"__proto__": {"polluted": "\\u0000"}}') as unknown;
    expect(JSON.parse(jsonbText(raw))).toEqual(JSON.parse('{"__proto__": {"polluted": "\\\\u0000"}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([['a string \u0000'], [42], [null], [['\ud800']]])('takes any JSON value: %j', (raw) => {
    expect(jsonbText(raw)).not.toMatch(REFUSED_ESCAPE);
  });
});
