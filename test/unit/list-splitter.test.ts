import { describe, expect, it } from 'vitest';
import { PartnerResponseError } from '../../src/partner/errors.js';
import { InvalidListEntry, ListSplitter, OversizeListEntry } from '../../src/partner/list-splitter.js';

/** A small seeded generator (mulberry32): every run sees the same cases. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The body cut into pieces at the given positions (every byte boundary is one somewhere). */
function chunks(body: Buffer, next: () => number, largest: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length;) {
    const size = 1 + Math.floor(next() * largest);
    pieces.push(body.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

function split(pieces: Buffer[], maxEntryBytes = 1024 * 1024) {
  const entries: unknown[] = [];
  const sizes: number[] = [];
  const splitter = new ListSplitter(maxEntryBytes, (value, bytes) => {
    entries.push(value);
    sizes.push(bytes);
  });
  for (const piece of pieces) splitter.write(piece);
  splitter.end();
  return { entries, sizes };
}

const whole = (text: string, maxEntryBytes?: number) => split([Buffer.from(text)], maxEntryBytes);

/** Every way of cutting `text` in two, and byte by byte. */
function everyCut(text: string, maxEntryBytes?: number) {
  const body = Buffer.from(text);
  const results = [
    split(
      [...body].map((byte) => Buffer.from([byte])),
      maxEntryBytes,
    ),
  ];
  for (let at = 1; at < body.length; at++)
    results.push(split([body.subarray(0, at), body.subarray(at)], maxEntryBytes));
  return results;
}

const tricky = [
  { id: 'a"b', note: 'has [brackets] and {braces} and "quotes" and \\ backslashes \\' },
  'a string entry with \\" and ] inside',
  12.5e3,
  -0,
  true,
  false,
  null,
  [1, [2, [3, { deep: ['}'] }]]],
  {},
  [],
  { unicode: 'Zürich €100 😀 \u2028', escaped: '\u0000\u001f' },
];

describe('ListSplitter', () => {
  it('hands on every entry as JSON.parse reads it, however the body is cut', () => {
    const text = ` \n[ ${tricky.map((entry) => JSON.stringify(entry)).join(' ,\r\n\t')} ] \n`;
    for (const { entries } of everyCut(text)) expect(entries).toEqual(JSON.parse(text));
  });

  it('splits random lists cut at random, as JSON.parse reads them', () => {
    const next = random(11);
    const alphabet = '"\\[]{},:aé€';
    const value = (depth: number): unknown => {
      const kind = Math.floor(next() * (depth > 2 ? 4 : 6));
      if (kind === 0) return Math.round(next() * 1e6) / 100;
      if (kind === 1) return [true, false, null][Math.floor(next() * 3)];
      if (kind <= 3)
        return Array.from({ length: Math.floor(next() * 12) }, () =>
          alphabet.charAt(Math.floor(next() * alphabet.length)),
        ).join('');
      if (kind === 4) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, i) => [`k${i}"[`, value(depth + 1)]),
      );
    };
    for (let round = 0; round < 300; round++) {
      const list = Array.from({ length: Math.floor(next() * 8) }, () => value(0));
      const indent = round % 3; // compact, and pretty-printed with spaces and newlines
      const body = Buffer.from(JSON.stringify(list, null, indent));
      const { entries, sizes } = split(chunks(body, next, 1 + Math.floor(next() * 40)));
      expect(entries).toEqual(list);
      if (indent === 0) expect(sizes).toEqual(list.map((entry) => Buffer.byteLength(JSON.stringify(entry))));
    }
  });

  it('counts each entry in bytes, without the spaces and commas around it', () => {
    expect(whole('[ {"a":"é"} ,  12 ,"x"]').sizes).toEqual([10, 2, 3]);
  });

  it('refuses what is not a list, or not one list', () => {
    const refusals: [string, RegExp][] = [
      ['', /list answer is empty/],
      ['  \n ', /list answer is empty/],
      ['{"a":1}', /not a JSON list/],
      ['<html>', /not a JSON list/],
      ['[1 2]', /not separated by commas/],
      ['[1,]', /missing after a comma/],
      ['[1,,2]', /missing after a comma/],
      ['[,1]', /not valid JSON/],
      ['[1] [2]', /text follows the end of the list/],
      ['[1]x', /text follows the end of the list/],
      ['[1', /ends before the list does/],
      ['[{"a":1}', /ends before the list does/],
      ['[{"a":"1}]', /ends before the list does/],
      ['["abc', /ends before the list does/],
      ['["ab"c]', /not separated by commas/],
      ['[{"a":1]', /brackets do not match/],
      ['[{"a":1], 2]', /brackets do not match/],
      ['[["a"}, 2]', /brackets do not match/],
      ['[1,}]', /an entry starts with "}"/],
      ['[:]', /an entry starts with ":"/],
      ['[NaN', /ends before the list does/],
      ['[NaN}', /ends before the list does/],
      ['[{"a":NaN}', /ends before the list does/],
      ['[{"a":NaN}]x', /text follows the end of the list/],
    ];
    for (const [text, reason] of refusals) {
      for (const cut of [[Buffer.from(text)], [...Buffer.from(text)].map((byte) => Buffer.from([byte]))]) {
        let error: unknown;
        try {
          split(cut);
        } catch (caught) {
          error = caught;
        }
        expect(error, text).toBeInstanceOf(PartnerResponseError);
        expect(String(error), text).toMatch(reason);
      }
    }
  });

  describe('an entry that is not valid JSON, in a list that is', () => {
    const id = 'b7e0c7a2-5f1e-4c1a-9d7e-0c2f7a1b9e11';
    const entries = [
      'NaN',
      'undefined',
      'tru',
      '-',
      `{"id":"${id}","amount":NaN,"state":"notifying"}`,
      `{"amount":01,"id":"${id}"}`,
      `{"id":"${id}","note":"a raw \u0001 control character"}`,
      `["id",NaN]`,
      `{"id":7,"a":x}`,
    ];

    it('is handed on unparsed, with its text, id and reason, and the rest of the list goes on', () => {
      const text = `[1, ${entries.join(' ,\n')}, {"id":"after"}]`;
      for (const { entries: got, sizes } of everyCut(text)) {
        expect(got[0]).toBe(1);
        expect(got.at(-1)).toEqual({ id: 'after' });
        const invalid = got.slice(1, -1) as InvalidListEntry[];
        expect(invalid.map((entry) => entry instanceof InvalidListEntry)).toEqual(entries.map(() => true));
        expect(invalid.map((entry) => entry.text)).toEqual(entries);
        expect(invalid.map((entry) => entry.bytes)).toEqual(entries.map((entry) => Buffer.byteLength(entry)));
        expect(sizes.slice(1, -1)).toEqual(entries.map((entry) => Buffer.byteLength(entry)));
        expect(invalid.map((entry) => entry.id)).toEqual([null, null, null, null, id, id, id, null, null]);
        for (const entry of invalid) expect(entry.reason).toMatch(/JSON/);
      }
    });

    it('keeps only the start of its text', () => {
      const long = `{"id":"x","note":"${'y'.repeat(5_000)}",}`;
      const [entry] = whole(`[${long}]`).entries as InvalidListEntry[];
      expect(entry).toBeInstanceOf(InvalidListEntry);
      expect(entry!.text).toBe(long.slice(0, 2048));
      expect(entry!.bytes).toBe(long.length);
      expect(entry!.id).toBe('x');
    });
  });

  describe('an entry larger than maxEntryBytes', () => {
    const payout = (note: string, id = 'b7e0c7a2-5f1e-4c1a-9d7e-0c2f7a1b9e11') =>
      JSON.stringify({ id, amount: '12.50', note, state: 'notifying' });
    const sized = (bytes: number) => payout('x'.repeat(bytes - Buffer.byteLength(payout(''))));

    it('is parsed at exactly the cap, and handed on unparsed one byte above', () => {
      const atCap = sized(1024);
      const above = sized(1025);
      for (const { entries } of everyCut(`[${atCap},${above},1]`, 1024)) {
        expect(entries[0]).toEqual(JSON.parse(atCap));
        expect(entries[1]).toBeInstanceOf(OversizeListEntry);
        expect(entries[1]).toMatchObject({ bytes: 1025, id: 'b7e0c7a2-5f1e-4c1a-9d7e-0c2f7a1b9e11' });
        expect(entries[2]).toBe(1); // the rest of the list goes on
      }
    });

    it('keeps its first 2 KiB for people, and never the rest', () => {
      const huge = sized(200_000);
      const [entry] = whole(`[${huge}]`, 1024).entries as OversizeListEntry[];
      expect(entry!.prefix).toBe(huge.slice(0, 2048));
      expect(entry!.bytes).toBe(200_000);
    });

    it("finds the object's own id wherever it stands, as JSON.parse would read it", () => {
      const big = 'x'.repeat(3_000);
      const cases: [string, string | null][] = [
        [`{"id":"first","note":"${big}"}`, 'first'],
        [`{"note":"${big}","id":"last"}`, 'last'],
        [`{"id":"one","note":"${big}","id":"two"}`, 'two'],
        [`{"id":"one","note":"${big}","id":7}`, null],
        [`{"nested":{"id":"not-this"},"note":"${big}"}`, null],
        [`{"list":[{"id":"not-this"}],"note":"${big}"}`, null],
        [`{"note":"${big} \\"id\\":\\"not-this\\"","x":1}`, null],
        [`{"i\\u0064":"escaped-key","note":"${big}"}`, 'escaped-key'],
        [`{ "id" : "sp\\u00e9cial\\"q" , "note":"${big}"}`, 'spécial"q'],
        [`{"id":{"deep":"x"},"note":"${big}"}`, null],
        [`{"id":"${'y'.repeat(300)}","note":"${big}"}`, null],
        [`{"note":"${big}"}`, null],
        [`["id","${big}"]`, null],
        [`"${big}"`, null],
      ];
      const next = random(5);
      for (const [entry, id] of cases) {
        expect(entry.length > 1024, entry.slice(0, 40)).toBe(true);
        const body = Buffer.from(`[${entry}]`);
        for (const largest of [1, 7, 64, 5000]) {
          const [got] = split(chunks(body, next, largest), 1024).entries;
          expect(got, entry.slice(0, 60)).toBeInstanceOf(OversizeListEntry);
          expect((got as OversizeListEntry).id, entry.slice(0, 60)).toBe(id);
        }
      }
    });
  });
});
