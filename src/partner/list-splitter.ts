import { PartnerResponseError } from './errors.js';

/**
 * An entry of the list larger than the client holds: skipped unparsed, so one huge entry costs
 * neither memory nor the rest of the list. The payout parser quarantines it; its start is kept
 * for people, and its `id` (the object's own top-level member, when a string, the last one as
 * JSON.parse would take it) so that the pass still knows the partner listed that payout.
 */
export class OversizeListEntry {
  constructor(
    readonly bytes: number,
    readonly prefix: string,
    readonly id: string | null,
  ) {}
}

/**
 * An entry that is not valid JSON on its own (`NaN`, `{"amount":NaN}`) in a list whose own syntax
 * holds, so its bounds are known: handed on unparsed, so that one broken entry does not stop the
 * rest of the list, pass after pass. The payout parser quarantines it, as it does an oversize one:
 * its start (`text`), its top-level string `id` when one is found the same way, and JSON.parse's
 * `reason`.
 */
export class InvalidListEntry {
  constructor(
    readonly bytes: number,
    readonly text: string,
    readonly id: string | null,
    readonly reason: string,
  ) {}
}

/**
 * Of an oversize or invalid entry, this much is kept: as JSON it stays near the 4,096 characters
 * staged.
 */
const PREFIX_BYTES = 2_048;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/**
 * Inside a JSON string, whether a byte closes it: an unescaped quote. Both scanners below follow
 * strings this way, so that a bracket or a quote within one is never taken for syntax.
 */
class StringEnd {
  private escaped = false;

  closes(byte: number): boolean {
    if (this.escaped) {
      this.escaped = false;
      return false;
    }
    if (byte === BACKSLASH) this.escaped = true;
    return byte === QUOTE;
  }
}

/** Where the splitter is in `[ entry , entry ]`. */
type Place = 'before' | 'first' | 'entry' | 'after' | 'comma' | 'done';

const invalid = (why: string) => new PartnerResponseError(`list answer is not valid JSON: ${why}`, 200);

/**
 * Splits a JSON list arriving in chunks into its entries, each parsed alone with JSON.parse once
 * its last byte arrived. Between entries it checks the list's own syntax (commas, brackets,
 * nothing after the end); within one it follows only strings, escapes and nesting, to find
 * where the entry ends. An entry is held until it is complete, at most `maxEntryBytes` of it:
 * a larger one is counted through, not kept, and handed on as an `OversizeListEntry`; one that
 * JSON.parse refuses is handed on as an `InvalidListEntry`.
 */
export class ListSplitter {
  private place: Place = 'before';
  private depth = 0;
  private inString = false;
  private readonly stringEnd = new StringEnd();
  private primitive = false;
  /** The `{` or `[` the entry opened with, unless a primitive. */
  private opener = 0;
  private parts: Buffer[] = [];
  private size = 0;
  private prefix: Buffer | undefined;
  private idOfOversize: TopLevelId | undefined;

  constructor(
    private readonly maxEntryBytes: number,
    /** Each entry as it completes, with its size in bytes. */
    private readonly onEntry: (value: unknown, bytes: number) => void,
  ) {}

  /** Whether the list's `[` has arrived. */
  get started(): boolean {
    return this.place !== 'before';
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.place !== 'entry') {
        at = this.between(chunk, at);
        continue;
      }
      const end = this.entryEnd(chunk, at);
      this.keep(chunk.subarray(at, end ?? chunk.length));
      if (end === undefined) return;
      this.complete();
      at = end;
    }
  }

  /** Throws unless the list ended, and nothing but spaces followed it. */
  end(): void {
    if (this.place === 'before') throw new PartnerResponseError('list answer is empty', 200);
    if (this.place !== 'done') throw invalid('it ends before the list does');
  }

  /** One byte outside any entry; returns where to go on. */
  private between(chunk: Buffer, at: number): number {
    const byte = chunk[at]!;
    if (isSpace(byte)) return at + 1;
    switch (this.place) {
      case 'before':
        if (byte !== OPEN_BRACKET) throw new PartnerResponseError('list answer is not a JSON list', 200);
        this.place = 'first';
        return at + 1;
      case 'first':
        if (byte === CLOSE_BRACKET) {
          this.place = 'done';
          return at + 1;
        }
        this.begin(byte);
        return at;
      case 'comma':
        if (byte === CLOSE_BRACKET || byte === COMMA) throw invalid('an entry is missing after a comma');
        this.begin(byte);
        return at;
      case 'after':
        if (byte === COMMA) this.place = 'comma';
        else if (byte === CLOSE_BRACKET) this.place = 'done';
        else throw invalid('entries are not separated by commas');
        return at + 1;
      default:
        throw invalid('text follows the end of the list');
    }
  }

  private begin(first: number): void {
    // What only the list's or an object's syntax may hold: no entry starts with it.
    if (first === COMMA || first === COLON || first === CLOSE_BRACE)
      throw invalid(`an entry starts with ${JSON.stringify(String.fromCharCode(first))}`);
    this.place = 'entry';
    this.depth = 0;
    this.inString = false;
    this.primitive = first !== OPEN_BRACE && first !== OPEN_BRACKET;
    this.opener = first;
  }

  /** The index just past the entry's last byte, or undefined when it goes on past the chunk. */
  private entryEnd(chunk: Buffer, from: number): number | undefined {
    for (let at = from; at < chunk.length; at++) {
      const byte = chunk[at]!;
      if (this.inString) {
        if (this.stringEnd.closes(byte)) {
          this.inString = false;
          if (this.primitive) return at + 1; // a string entry
        }
      } else if (byte === QUOTE) {
        this.inString = true;
      } else if (this.primitive) {
        // A number, true, false or null (or a bare token, `NaN`) ends where the list's syntax
        // begins again.
        if (isSpace(byte) || byte === COMMA || byte === CLOSE_BRACKET) return at;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (--this.depth > 0) continue;
        // Closed by the other bracket, the entry's end is a guess: the list is not read on.
        if ((this.opener === OPEN_BRACE) !== (byte === CLOSE_BRACE))
          throw invalid("an entry's brackets do not match");
        return at + 1;
      }
    }
    return undefined;
  }

  private keep(part: Buffer): void {
    this.size += part.length;
    if (this.prefix) {
      this.idOfOversize?.feed(part);
      return;
    }
    if (this.size <= this.maxEntryBytes) {
      this.parts.push(part);
      return;
    }
    // From here on the entry is only followed for its id: its start is copied, the chunks it
    // held let go.
    const held = [...this.parts, part];
    this.prefix = Buffer.from(Buffer.concat(held).subarray(0, PREFIX_BYTES));
    this.parts = [];
    if (this.prefix[0] === OPEN_BRACE) {
      this.idOfOversize = new TopLevelId();
      for (const piece of held) this.idOfOversize.feed(piece);
    }
  }

  private complete(): void {
    const bytes = this.size;
    let value: unknown;
    if (this.prefix) {
      value = new OversizeListEntry(bytes, this.prefix.toString('utf8'), this.idOfOversize?.id() ?? null);
    } else {
      const held = Buffer.concat(this.parts, bytes);
      try {
        value = JSON.parse(held.toString('utf8')) as unknown;
      } catch (error) {
        value = invalidEntry(held, error);
      }
    }
    this.place = 'after';
    this.parts = [];
    this.size = 0;
    this.prefix = undefined;
    this.idOfOversize = undefined;
    this.onEntry(value, bytes);
  }
}

/** A held entry JSON.parse refused, as it is handed on. */
function invalidEntry(held: Buffer, error: unknown): InvalidListEntry {
  const message = error instanceof Error ? error.message : String(error);
  let id: string | null = null;
  if (held[0] === OPEN_BRACE) {
    const finder = new TopLevelId();
    finder.feed(held);
    id = finder.id();
  }
  return new InvalidListEntry(
    held.length,
    held.subarray(0, PREFIX_BYTES).toString('utf8'),
    id,
    message.slice(0, 200),
  );
}

/** Longest key text followed (`"id"` needs 4 bytes, more with escapes) and id text kept. */
const MAX_KEY_BYTES = 64;
const MAX_ID_BYTES = 256;

/**
 * Follows one object, fed from its `{`, for its top-level `id` member: the raw text of the last
 * one (JSON.parse keeps the last of duplicate keys), or null when that is not a short string.
 */
class TopLevelId {
  private depth = 0;
  private inString = false;
  private readonly stringEnd = new StringEnd();
  /** What comes next among the object's own members. */
  private member: 'key' | 'colon' | 'value' | 'next' = 'key';
  private capture: { of: 'key' | 'id'; parts: Buffer[]; size: number; bound: number } | undefined;
  private keyIsId = false;
  private idText: string | null = null;

  feed(chunk: Buffer): void {
    let from = 0;
    for (let at = 0; at < chunk.length; at++) {
      const byte = chunk[at]!;
      if (this.inString) {
        if (this.stringEnd.closes(byte)) {
          this.inString = false;
          if (this.capture) this.captured(chunk.subarray(from, at + 1));
          else if (this.depth === 1 && this.member === 'value') this.member = 'next';
        }
        continue;
      }
      if (this.depth !== 1) {
        if (byte === QUOTE) this.inString = true;
        else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.depth++;
        else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) this.depth--;
        continue;
      }
      // The object's own level: `"key": value, …`.
      if (isSpace(byte)) continue;
      if (byte === QUOTE) {
        this.inString = true;
        const of = this.member === 'key' ? 'key' : this.member === 'value' && this.keyIsId ? 'id' : undefined;
        if (of) {
          this.capture = { of, parts: [], size: 0, bound: of === 'key' ? MAX_KEY_BYTES : MAX_ID_BYTES };
          from = at;
        }
      } else if (byte === COLON) {
        if (this.member === 'colon') this.member = 'value';
      } else if (byte === COMMA) {
        this.member = 'key';
        this.keyIsId = false;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--;
      } else {
        // A value that is not a string: an id of this member cannot be one.
        if (this.member === 'value' && this.keyIsId) this.idText = null;
        this.member = 'next';
        if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.depth++;
      }
    }
    if (this.capture) this.add(chunk.subarray(from));
  }

  /** The id as JSON.parse would read it, when a string. */
  id(): string | null {
    if (this.idText === null) return null;
    try {
      const id = JSON.parse(this.idText) as unknown;
      return typeof id === 'string' ? id : null;
    } catch {
      return null;
    }
  }

  private add(part: Buffer): void {
    const capture = this.capture!;
    capture.size += part.length;
    if (capture.size <= capture.bound) capture.parts.push(Buffer.from(part));
  }

  private captured(last: Buffer): void {
    this.add(last);
    const capture = this.capture!;
    this.capture = undefined;
    const text = capture.size <= capture.bound ? Buffer.concat(capture.parts).toString('utf8') : null;
    if (capture.of === 'key') {
      this.keyIsId = text !== null && keyOf(text) === 'id';
      this.member = 'colon';
    } else {
      this.idText = text;
      this.member = 'next';
    }
  }
}

function keyOf(text: string): string | null {
  if (!text.includes('\\')) return text.slice(1, -1);
  try {
    return JSON.parse(text) as string;
  } catch {
    return null;
  }
}
