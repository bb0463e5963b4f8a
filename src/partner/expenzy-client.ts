import pLimit from 'p-limit';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../config.js';
import {
  PartnerAnswerTooLargeError,
  PartnerRejectedRequestError,
  PartnerResponseError,
  PartnerUnavailableError,
} from './errors.js';
import { ListSplitter } from './list-splitter.js';

export type PartnerState = 'notifying' | 'processing' | 'error';

const PARTNER_STATES: ReadonlySet<unknown> = new Set<PartnerState>(['notifying', 'processing', 'error']);

/** The outcome of a state update the partner answered with 200. */
export type UpdateOutcome =
  | { applied: true; payout: Record<string, unknown> }
  /** `[]`: the partner did not apply it (it documents this only for an unknown id). */
  | { applied: false };

export interface PartnerCall {
  operation: 'list' | 'update';
  outcome: 'ok' | 'unavailable' | 'invalid' | 'rejected';
  status: number | null;
  durationMs: number;
}

/** How a streamed list ended: whole, or cut at a cap (its entries so far handed on all the same). */
export interface ListOutcome {
  /** Entries handed on. */
  entries: number;
  /** Null when the list was read to its end; otherwise the cap it was cut at. */
  cut: null | 'size' | 'time';
}

export interface ExpenzyClientOptions {
  baseUrl: string;
  /** An update's bound, answer included: the fence relies on no update outliving it. */
  timeoutMs: number;
  /**
   * The longest silence within a list answer, before its first byte included: a list is bounded
   * by its progress, not by a deadline for the whole answer (a large one takes the partner
   * seconds to build, and minutes to stream).
   */
  listIdleTimeoutMs: number;
  /** The most time one list is read for: past it, the list is cut where it got to. */
  listTimeoutMs: number;
  /**
   * The most of one answer held whole: an update's answer (larger: refused), and each entry of
   * the list (larger: handed on unread, an `OversizeListEntry`).
   */
  maxBufferedResponseBytes: number;
  /** The most of a list answer read: it streams, a batch at a time; past it, the list is cut. */
  maxListResponseBytes: number;
  maxParallelCalls: number;
  apiKey?: string;
  /** Told about every call, for metrics. */
  onCall?: (call: PartnerCall) => void;
}

export interface ExpenzyClient {
  /** The whole list, kept in memory: for tests. The sync and the tools stream it (`forEachListed`). */
  listTransactions(state?: PartnerState): Promise<unknown[]>;
  /**
   * The list as it streams: `onBatch` gets up to `batchSize` entries at a time, fewer once they
   * hold `maxBufferedResponseBytes` of JSON, and the next bytes are read only once it resolved,
   * so memory holds one batch whatever the list's size. A list longer than a cap (its size or
   * its time) is cut there: the entries read are handed on, and the outcome says it was cut, so
   * nothing may be inferred from an entry's absence.
   */
  forEachListed(
    state: PartnerState,
    batchSize: number,
    onBatch: (entries: unknown[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<ListOutcome>;
  /** `signal` stops a call that has not been sent yet, and aborts one in flight. */
  updateState(id: string, state: 'processing' | 'error', signal?: AbortSignal): Promise<UpdateOutcome>;
  close(): Promise<void>;
}

/** The client as the configuration describes it (the worker's, and anything measuring it). */
export function expenzyClientFromConfig(
  config: Pick<
    Config,
    | 'EXPENZY_API_BASE_URL'
    | 'EXPENZY_CALL_TIMEOUT'
    | 'EXPENZY_LIST_IDLE_TIMEOUT'
    | 'EXPENZY_LIST_TIMEOUT'
    | 'EXPENZY_MAX_BUFFERED_RESPONSE_BYTES'
    | 'EXPENZY_MAX_LIST_RESPONSE_BYTES'
    | 'EXPENZY_MAX_PARALLEL_CALLS'
    | 'EXPENZY_API_KEY'
  >,
  onCall?: ExpenzyClientOptions['onCall'],
): ExpenzyClient {
  return createExpenzyClient({
    baseUrl: config.EXPENZY_API_BASE_URL,
    timeoutMs: config.EXPENZY_CALL_TIMEOUT,
    listIdleTimeoutMs: config.EXPENZY_LIST_IDLE_TIMEOUT,
    listTimeoutMs: config.EXPENZY_LIST_TIMEOUT,
    maxBufferedResponseBytes: config.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES,
    maxListResponseBytes: config.EXPENZY_MAX_LIST_RESPONSE_BYTES,
    maxParallelCalls: config.EXPENZY_MAX_PARALLEL_CALLS,
    apiKey: config.EXPENZY_API_KEY,
    onCall,
  });
}

/** The update's form body for each state Holvi sets, encoded once rather than per call. */
const UPDATE_BODY = {
  processing: new URLSearchParams({ state: 'processing' }).toString(),
  error: new URLSearchParams({ state: 'error' }).toString(),
} as const;

/** Of a failure's answer (404, 5xx…), only this much is read: its status says what happened. */
const ERROR_TEXT_BYTES = 1_024;

/**
 * Holvi's client for the Expenzy API, with the partner's quirks handled in one place:
 * reads are POSTs, `[]` means "not applied", failures are 500s. Every call is bounded in
 * time, in response size and in parallelism; redirects are never followed. No answer is held
 * whole beyond `maxBufferedResponseBytes` (readWhole, readPrefix): the list streams, cut at
 * `maxListResponseBytes` or `listTimeoutMs`, and fails only when the partner falls silent.
 */
export function createExpenzyClient(options: ExpenzyClientOptions): ExpenzyClient {
  const base = new URL(options.baseUrl);
  const agent = new Agent({
    connections: options.maxParallelCalls,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const limit = pLimit(options.maxParallelCalls);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  async function call<T = unknown>(
    operation: PartnerCall['operation'],
    path: string,
    init: Partial<Dispatcher.RequestOptions>,
    cancel?: AbortSignal,
    /** Reads a 200 answer's body as it streams, instead of parsing it whole. */
    consume?: (body: AsyncIterable<Buffer>) => Promise<T>,
    /** The whole call's bound (a list's is its own). */
    timeoutMs = options.timeoutMs,
  ): Promise<T> {
    if (cancel?.aborted) throw new PartnerUnavailableError(`${operation} call not sent: cancelled`);
    const started = performance.now();
    const report = (outcome: PartnerCall['outcome'], status: number | null) =>
      options.onCall?.({ operation, outcome, status, durationMs: performance.now() - started });
    const bound = callBound(timeoutMs, cancel);
    try {
      // The agent's own request: origin and path as they are, no URL built and parsed per call.
      const response = await agent.request({
        origin: base.origin,
        path,
        method: 'POST',
        signal: bound.signal,
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string>) },
      });
      if (response.statusCode !== 200) refuse(response.statusCode, await readPrefix(response.body));
      const result = consume
        ? await consume(response.body)
        : (parseAnswer(await readWhole(response, operation, options.maxBufferedResponseBytes)) as T);
      report('ok', response.statusCode);
      return result;
    } catch (error) {
      const wrapped = classify(error, operation);
      const outcome =
        wrapped instanceof PartnerUnavailableError
          ? 'unavailable'
          : wrapped instanceof PartnerRejectedRequestError
            ? 'rejected'
            : 'invalid';
      report(outcome, 'status' in wrapped && typeof wrapped.status === 'number' ? wrapped.status : null);
      throw wrapped;
    } finally {
      bound.done();
    }
  }

  const list = (
    state: PartnerState | undefined,
    batchSize: number,
    onBatch: (entries: unknown[]) => Promise<void>,
    signal?: AbortSignal,
  ) =>
    limit(async () => {
      // The consumer's own failure (e.g. its database) is not the partner's: passed on as it is.
      let consumerFailure: { error: unknown } | undefined;
      const consume = async (entries: unknown[]) => {
        try {
          await onBatch(entries);
        } catch (error) {
          consumerFailure = { error };
          throw error;
        }
      };
      const query = state ? `?state=${encodeURIComponent(state)}` : '';
      const idle = { headersTimeout: options.listIdleTimeoutMs, bodyTimeout: options.listIdleTimeoutMs };
      // Cut at the time cap by streamList itself; the call's own bound is a backstop past it.
      const deadline = performance.now() + options.listTimeoutMs;
      const caps = {
        bytes: options.maxListResponseBytes,
        deadline,
        maxEntryBytes: options.maxBufferedResponseBytes,
      };
      try {
        return await call(
          'list',
          `/api/transaction/${query}`,
          idle,
          signal,
          (body) => streamList(body, batchSize, caps, consume),
          options.listTimeoutMs + options.listIdleTimeoutMs,
        );
      } catch (error) {
        throw consumerFailure ? consumerFailure.error : error;
      }
    });

  return {
    listTransactions: async (state) => {
      const entries: unknown[] = [];
      await list(state, 1_000, async (batch) => {
        entries.push(...batch);
      });
      return entries;
    },
    forEachListed: (state, batchSize, onBatch, signal) => list(state, batchSize, onBatch, signal),
    updateState: (id, state, signal) =>
      limit(async () => {
        const body = await call(
          'update',
          `/api/transaction/${encodeURIComponent(id)}/`,
          {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: UPDATE_BODY[state],
          },
          signal,
        );
        return updateOutcome(body, id, state);
      }),
    close: () => agent.close(),
  };
}

/**
 * One call's abort signal: the overall timeout (the fence relies on no call outliving it), or
 * the caller's cancellation. Built by hand, not with AbortSignal.any: a thousand calls a second
 * on one long-lived cancellation signal would each leave a dependant behind on it.
 */
function callBound(timeoutMs: number, cancel?: AbortSignal) {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const onCancel = () => controller.abort(cancel?.reason);
  cancel?.addEventListener('abort', onCancel, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    },
  };
}

/** Any answer but 200, as the error it means. */
function refuse(status: number, text: string): never {
  if (status === 404)
    throw new PartnerRejectedRequestError(`partner refused the request (404): ${text.slice(0, 200)}`, status);
  if (status === 429 || status >= 500)
    throw new PartnerUnavailableError(`partner answered ${status}`, status);
  throw new PartnerResponseError(`unexpected status ${status}`, status);
}

function parseAnswer(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PartnerResponseError(`answer is not JSON: ${text.slice(0, 80)}`, 200);
  }
}

/** The start of a failure's answer, for its message; the rest is never read. */
async function readPrefix(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= ERROR_TEXT_BYTES) break; // leaving the loop discards the rest of the body
  }
  return Buffer.concat(chunks).subarray(0, ERROR_TEXT_BYTES).toString('utf8');
}

/** A 200 answer read whole, refused as soon as it is known to hold more than `limit` bytes. */
async function readWhole(
  response: Dispatcher.ResponseData,
  operation: string,
  limit: number,
): Promise<string> {
  const tooLarge = () =>
    new PartnerAnswerTooLargeError(
      `${operation} answer exceeded the size limit of ${limit} bytes (EXPENZY_MAX_BUFFERED_RESPONSE_BYTES)`,
      response.statusCode,
    );
  if (Number(response.headers['content-length']) > limit) {
    response.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(); // leaving the loop discards the rest of the body
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Splits the body into the top-level list's entries as it streams, handing them on a batch at a
 * time: `batchSize` entries, or fewer once they hold `maxEntryBytes` of JSON. An entry is held
 * until it is complete, at most `maxEntryBytes` of it (a larger one is handed on unparsed, as an
 * `OversizeListEntry`): memory holds about twice `maxEntryBytes` and a network read or two,
 * whatever the partner sends. Past `caps.bytes` or `caps.deadline` the rest is not read: the
 * entries completed so far are handed on and the list is cut.
 */
async function streamList(
  body: AsyncIterable<Buffer>,
  batchSize: number,
  caps: { bytes: number; deadline: number; maxEntryBytes: number },
  onBatch: (entries: unknown[]) => Promise<void>,
): Promise<ListOutcome> {
  let batch: unknown[] = [];
  let batchBytes = 0;
  let entries = 0;
  let read = 0;
  let cut: ListOutcome['cut'] = null;
  const splitter = new ListSplitter(caps.maxEntryBytes, (value, bytes) => {
    batch.push(value);
    batchBytes += Math.min(bytes, caps.maxEntryBytes);
    entries++;
  });
  const flush = async () => {
    const handed = batch;
    batch = [];
    batchBytes = 0;
    if (handed.length > 0) await onBatch(handed);
  };
  for await (const chunk of body) {
    const room = caps.bytes - read;
    read += chunk.length;
    if (chunk.length > room) {
      // Only the entries that end within the cap: the one it falls in is left out with the rest.
      splitter.write(chunk.subarray(0, room));
      cut = 'size';
      break; // leaving the loop discards the rest of the body
    }
    splitter.write(chunk);
    if (batch.length >= batchSize || batchBytes >= caps.maxEntryBytes) await flush();
    if (performance.now() > caps.deadline) {
      cut = 'time';
      break;
    }
  }
  if (cut === null) splitter.end();
  await flush();
  return { entries, cut };
}

function updateOutcome(body: unknown, id: string, state: PartnerState): UpdateOutcome {
  if (!Array.isArray(body)) throw new PartnerResponseError('update answer is not a JSON list');
  if (body.length === 0) return { applied: false };
  const [payout] = body as unknown[];
  if (body.length !== 1 || typeof payout !== 'object' || payout === null) {
    throw new PartnerResponseError(`update answer has ${body.length} items, expected 1`);
  }
  const { id: answered, state: shown } = payout as Record<string, unknown>;
  if (typeof answered !== 'string' || answered.toLowerCase() !== id.toLowerCase()) {
    throw new PartnerResponseError(`update answer is for payout ${JSON.stringify(answered)}, not ${id}`);
  }
  if (PARTNER_STATES.has(shown) && shown !== state) {
    throw new PartnerResponseError(
      `update answer shows payout ${id} in state ${JSON.stringify(shown)}, not "${state}"`,
    );
  }
  return { applied: true, payout: payout as Record<string, unknown> };
}

function classify(error: unknown, operation: string): Error {
  if (
    error instanceof PartnerUnavailableError ||
    error instanceof PartnerResponseError ||
    error instanceof PartnerRejectedRequestError
  ) {
    return error;
  }
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new PartnerUnavailableError(`${operation} call failed: ${name}: ${message}`);
}
