import type { ServerResponse } from 'node:http';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendFenced } from '../src/fence/send-fenced.js';
import { loadConfig } from '../src/config.js';
import type { Tenure } from '../src/fence/sync-fence.js';
import {
  PartnerAnswerTooLargeError,
  PartnerRejectedRequestError,
  PartnerUnavailableError,
} from '../src/partner/errors.js';
import {
  expenzyClientFromConfig,
  type ExpenzyClient,
  type PartnerCall,
} from '../src/partner/expenzy-client.js';
import { OversizeListEntry } from '../src/partner/list-splitter.js';
import { parsePartnerPayout } from '../src/partner/payout-parser.js';
import { startHostilePartner } from './support/hostile-partner.js';

const ID = '6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b';
const KiB = 1024;
const MiB = 1024 * KiB;

type Partner = Awaited<ReturnType<typeof startHostilePartner>>;
const opened: { partner: Partner; client: ExpenzyClient }[] = [];

afterEach(async () => {
  for (const { partner, client } of opened.splice(0)) {
    await client.close();
    await partner.close();
  }
});

/** How the partner sends an answer: with its length up front, or chunked without one. */
type Framing = 'content-length' | 'chunked';

function send(res: ServerResponse, body: string, framing: Framing) {
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  if (framing === 'content-length') headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(200, headers);
  if (framing === 'content-length') return res.end(body);
  // Several writes, so that the body arrives in pieces without a declared length.
  const piece = Math.max(1, Math.ceil(body.length / 7));
  for (let at = 0; at < body.length; at += piece) res.write(body.slice(at, at + piece));
  res.end();
}

/** A client as the worker builds it from the configuration, against a partner on 127.0.0.1. */
async function clientAgainst(
  handler: Parameters<typeof startHostilePartner>[0],
  env: NodeJS.ProcessEnv = {},
  calls: PartnerCall[] = [],
) {
  const partner = await startHostilePartner(handler);
  const config = loadConfig({ EXPENZY_API_BASE_URL: partner.url, ...env });
  const client = expenzyClientFromConfig(config, (call) => calls.push(call));
  opened.push({ partner, client });
  return { partner, client, config, calls };
}

/** The update answer for ID, padded with spaces to exactly `bytes` bytes (still valid JSON). */
function updateAnswerOf(bytes: number): string {
  const answer = JSON.stringify([{ id: ID, state: 'processing', amount: '12.50' }]);
  return answer + ' '.repeat(bytes - Buffer.byteLength(answer));
}

/** A list entry whose JSON is exactly `bytes` bytes. */
function entryOf(bytes: number, n: number): string {
  const bare = JSON.stringify({ id: `entry-${n}`, note: '' });
  return JSON.stringify({ id: `entry-${n}`, note: 'x'.repeat(bytes - Buffer.byteLength(bare)) });
}

/** A JSON list of exactly `bytes` bytes, of entries of about `entryBytes` each (the last one takes up the rest). */
function listOf(bytes: number, entryBytes: number): { body: string; entries: number } {
  const entries: string[] = [];
  let size = 2; // [ and ]
  while (size < bytes) {
    const separator = entries.length > 0 ? 1 : 0;
    const room = bytes - size - separator;
    // An entry takes at least 24 bytes; the last one takes up what remains.
    const take = room - entryBytes >= 24 ? entryBytes : room;
    entries.push(entryOf(take, entries.length));
    size += separator + take;
  }
  const body = `[${entries.join(',')}]`;
  expect(Buffer.byteLength(body)).toBe(bytes);
  return { body, entries: entries.length };
}

const listAll = (client: ExpenzyClient) => client.forEachListed('notifying', 1_000, async () => undefined);

describe('the partner answers Holvi reads whole (EXPENZY_MAX_BUFFERED_RESPONSE_BYTES)', () => {
  it('is 1 MiB by default: far above an update answer, far below the list cap', () => {
    const config = loadConfig({});
    expect(config.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES).toBe(MiB);
    expect(config.EXPENZY_MAX_LIST_RESPONSE_BYTES).toBe(256 * MiB);
  });

  for (const framing of ['content-length', 'chunked'] as const) {
    it(`reads an update answer of exactly the default cap, and refuses one byte more (${framing})`, async () => {
      let bytes = MiB;
      const { client, calls } = await clientAgainst((_req, res) => send(res, updateAnswerOf(bytes), framing));

      await expect(client.updateState(ID, 'processing')).resolves.toMatchObject({
        applied: true,
        payout: { id: ID },
      });

      bytes = MiB + 1;
      const error = await client.updateState(ID, 'processing').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartnerAnswerTooLargeError);
      expect(error).toBeInstanceOf(PartnerUnavailableError); // retryable, like any unavailability
      expect(error).toMatchObject({ status: 200 }); // an answer: the call is over at the partner
      expect(String(error)).toMatch(/1048576 bytes \(EXPENZY_MAX_BUFFERED_RESPONSE_BYTES\)/);
      expect(calls.map((call) => [call.outcome, call.status])).toEqual([
        ['ok', 200],
        ['unavailable', 200],
      ]);
    });
  }

  it('follows the configured cap, at exactly the cap and one byte above', async () => {
    let bytes = 4 * KiB;
    const { client } = await clientAgainst((_req, res) => send(res, updateAnswerOf(bytes), 'chunked'), {
      EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: String(4 * KiB),
    });
    await expect(client.updateState(ID, 'processing')).resolves.toMatchObject({ applied: true });
    bytes = 4 * KiB + 1;
    await expect(client.updateState(ID, 'processing')).rejects.toThrow(PartnerAnswerTooLargeError);
  });

  it('refuses an answer declared too large before its body arrives', async () => {
    const { client } = await clientAgainst((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': MiB + 1 });
      res.write('['); // and nothing more: reading on would wait for the call timeout
    });
    const error = await client.updateState(ID, 'processing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerAnswerTooLargeError);
    expect(error).toMatchObject({ status: 200 });
  });

  it("reads only the start of a failure's answer, however long it is", async () => {
    let status = 404;
    const { client } = await clientAgainst((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      const chunk = 'no such state '.repeat(4_096);
      const pump = () => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump(); // never ends
    });
    const refused = await client.updateState(ID, 'processing').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PartnerRejectedRequestError);
    expect(String(refused)).toMatch(/partner refused the request \(404\): no such state/);

    status = 500;
    const failed = await client.updateState(ID, 'processing').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PartnerUnavailableError);
    expect(failed).not.toBeInstanceOf(PartnerAnswerTooLargeError);
    expect(failed).toMatchObject({ status: 500 });
  });
});

describe('the list is bounded by its progress (EXPENZY_LIST_IDLE_TIMEOUT, EXPENZY_LIST_TIMEOUT)', () => {
  const entry = (n: number) => JSON.stringify({ id: `entry-${n}`, note: 'a payout' }) + (n < 9 ? ',' : ']');
  /** A list of ten entries, one every `gapMs`, the first after `firstMs`. */
  const slowList = (firstMs: number, gapMs: number) => (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let n = 0;
    const next = () => {
      if (res.destroyed) return;
      res.write((n === 0 ? '[' : '') + entry(n));
      if (++n < 10) setTimeout(next, gapMs);
      else res.end();
    };
    setTimeout(next, firstMs);
  };

  it('reads a list that keeps arriving for longer than EXPENZY_CALL_TIMEOUT, and one the partner takes long to start', async () => {
    const env = { EXPENZY_CALL_TIMEOUT: '200ms', EXPENZY_LIST_IDLE_TIMEOUT: '2s' };
    const { client } = await clientAgainst(slowList(400, 60), env);
    await expect(listAll(client)).resolves.toEqual({ entries: 10, cut: null });
  });

  it('fails a list the partner falls silent in for EXPENZY_LIST_IDLE_TIMEOUT, as unavailable', async () => {
    const env = { EXPENZY_LIST_IDLE_TIMEOUT: '1s' };
    const { client } = await clientAgainst(slowList(0, 1_500), env);
    const error = await listAll(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerUnavailableError);
  });

  it('cuts a list still arriving at EXPENZY_LIST_TIMEOUT where it got to', async () => {
    const env = { EXPENZY_LIST_TIMEOUT: '1s', EXPENZY_LIST_IDLE_TIMEOUT: '2s' };
    const { client } = await clientAgainst(slowList(0, 250), env);
    const outcome = await listAll(client);
    expect(outcome.cut).toBe('time');
    expect(outcome.entries).toBeGreaterThan(0);
    expect(outcome.entries).toBeLessThan(10);
  });
});

describe('the streamed list (EXPENZY_MAX_LIST_RESPONSE_BYTES)', () => {
  // The smallest list cap the configuration takes; entries of at most 1 KiB.
  const env = {
    EXPENZY_MAX_LIST_RESPONSE_BYTES: String(MiB),
    EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: String(KiB),
  };

  for (const framing of ['content-length', 'chunked'] as const) {
    it(`streams a list of exactly the cap whole; a longer one is cut at the cap, its entries so far handed on (${framing})`, async () => {
      let list = listOf(MiB, 500);
      const { client, calls } = await clientAgainst((_req, res) => send(res, list.body, framing), env);

      await expect(listAll(client)).resolves.toEqual({ entries: list.entries, cut: null });

      list = listOf(2 * MiB, 500);
      let handed = 0;
      const cut = await client.forEachListed('notifying', 1_000, async (batch) => {
        handed += batch.length;
      });
      expect(cut.cut).toBe('size');
      expect(cut.entries).toBe(handed);
      // About half the list: every entry that ends within the first MiB, and none beyond it.
      expect(handed).toBeGreaterThan(list.entries / 2 - 3);
      expect(handed).toBeLessThan(list.entries / 2 + 3);
      expect(calls.map((call) => [call.operation, call.outcome, call.status])).toEqual([
        ['list', 'ok', 200],
        ['list', 'ok', 200],
      ]);
    });
  }

  it('parses an entry of exactly EXPENZY_MAX_BUFFERED_RESPONSE_BYTES; one byte more is quarantined, the list goes on', async () => {
    const payout = (id: string, note: string) =>
      JSON.stringify({
        id,
        amount: '12.50',
        create_time: '2026-11-26T10:00:00Z',
        recipient_account_identifier: 'FI2112345600000785',
        state: 'notifying',
        note,
      });
    const sized = (id: string, bytes: number) =>
      payout(id, 'x'.repeat(bytes - Buffer.byteLength(payout(id, ''))));
    const [atCap, above, after] = [
      ID,
      '0b9a3c44-2d1e-4f6a-8b7c-5d4e3f2a1b0c',
      'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
    ];
    const body = `[${sized(atCap, KiB)}, ${sized(above, KiB + 1)}, ${sized(after, 300)}]`;
    const { client } = await clientAgainst((_req, res) => send(res, body, 'chunked'), env);

    const listed: unknown[] = [];
    await client.forEachListed('notifying', 1_000, async (batch) => {
      listed.push(...batch);
    });
    const parsed = listed.map(parsePartnerPayout);
    expect(parsed.map((entry) => entry.kind)).toEqual(['payout', 'rejected', 'payout']);
    expect(listed[1]).toBeInstanceOf(OversizeListEntry);
    // Quarantined under its own id, so the pass knows the partner listed it (and settles nothing of it).
    expect(parsed[1]).toMatchObject({
      kind: 'rejected',
      rejected: {
        expenzyId: above,
        reason: `entry of ${KiB + 1} bytes, more than EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: not read`,
        raw: { truncated: sized(above, KiB + 1), length: KiB + 1 },
      },
    });
  });

  it('counts through an entry that never ends, holding none of it, until the list cap', async () => {
    const { client } = await clientAgainst((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"id":"endless","note":"');
      const chunk = 'x'.repeat(16 * KiB);
      const pump = () => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
    }, env);
    await expect(listAll(client)).resolves.toEqual({ entries: 0, cut: 'size' });
  });

  it('hands on batches of at most about the cap in JSON, whatever the batch size asked', async () => {
    const list = listOf(MiB, 500);
    const { client } = await clientAgainst((_req, res) => send(res, list.body, 'content-length'), env);
    const batches: number[] = [];
    let entries = 0;
    await client.forEachListed('notifying', 100_000, async (batch) => {
      batches.push(Buffer.byteLength(JSON.stringify(batch)));
      entries += batch.length;
    });
    expect(entries).toBe(list.entries);
    expect(batches.length).toBeGreaterThan(1);
    // A batch is flushed once it holds the cap; the network read that crossed it comes along.
    for (const bytes of batches) expect(bytes).toBeLessThanOrEqual(KiB + 64 * KiB);
  });
});

describe('an answer too large, sent under the fence', () => {
  const env = () =>
    new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'expenzy-sync', runId: 'run-1' } },
      { logger: new DefaultLogger('WARN') },
    );
  const tenure = () => {
    const callsCutShort = vi.fn();
    const held: Tenure = {
      session: {} as pg.ClientBase,
      signal: new AbortController().signal,
      assertHeld: () => Promise.resolve(),
      callsCutShort,
      cutShort: false,
    };
    return { held, callsCutShort };
  };

  it('is transient (never confirmed) and does not make the next holder wait', async () => {
    const { client } = await clientAgainst((_req, res) => send(res, updateAnswerOf(MiB + 1), 'chunked'));
    const { held, callsCutShort } = tenure();
    const outcomes = await env().run(() =>
      sendFenced(held, [ID], 1, (id, signal) => client.updateState(id, 'processing', signal)),
    );
    expect(outcomes).toEqual([{ kind: 'transient' }]);
    expect(callsCutShort).not.toHaveBeenCalled();
  });

  it('unlike a call with no answer, which may still land at the partner', async () => {
    const { client } = await clientAgainst(() => undefined, { EXPENZY_CALL_TIMEOUT: '200ms' });
    const { held, callsCutShort } = tenure();
    const outcomes = await env().run(() =>
      sendFenced(held, [ID], 1, (id, signal) => client.updateState(id, 'processing', signal)),
    );
    expect(outcomes).toEqual([{ kind: 'transient' }]);
    expect(callsCutShort).toHaveBeenCalledOnce();
  });
});
