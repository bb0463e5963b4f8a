import { JSONParser } from '@streamparser/json';
import pLimit from 'p-limit';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import type { Config } from '../config.js';
import { PartnerRejectedRequestError, PartnerResponseError, PartnerUnavailableError } from './errors.js';

export type PartnerState = 'notifying' | 'processing' | 'error';

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

export interface ExpenzyClientOptions {
  baseUrl: string;
  timeoutMs: number;
  maxResponseBytes: number;
  maxParallelCalls: number;
  apiKey?: string;
  /** Told about every call, for metrics. */
  onCall?: (call: PartnerCall) => void;
}

export interface ExpenzyClient {
  /** The whole list in memory: for tools and tests. The sync streams it (`forEachListed`). */
  listTransactions(state?: PartnerState): Promise<unknown[]>;
  /**
   * The list as it streams: `onBatch` gets up to `batchSize` entries at a time, and the next
   * bytes are read only once it resolved, so memory holds one batch whatever the list's size.
   * Resolves with the number of entries.
   */
  forEachListed(
    state: PartnerState,
    batchSize: number,
    onBatch: (entries: unknown[]) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<number>;
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
    | 'EXPENZY_MAX_RESPONSE_BYTES'
    | 'EXPENZY_MAX_PARALLEL_CALLS'
    | 'EXPENZY_API_KEY'
  >,
  onCall?: ExpenzyClientOptions['onCall'],
): ExpenzyClient {
  return createExpenzyClient({
    baseUrl: config.EXPENZY_API_BASE_URL,
    timeoutMs: config.EXPENZY_CALL_TIMEOUT,
    maxResponseBytes: config.EXPENZY_MAX_RESPONSE_BYTES,
    maxParallelCalls: config.EXPENZY_MAX_PARALLEL_CALLS,
    apiKey: config.EXPENZY_API_KEY,
    onCall,
  });
}

/**
 * Holvi's client for the Expenzy API, with the partner's quirks handled in one place:
 * reads are POSTs, `[]` means "not applied", failures are 500s. Every call is bounded in
 * time, in response size and in parallelism; redirects are never followed.
 */
export function createExpenzyClient(options: ExpenzyClientOptions): ExpenzyClient {
  const base = new URL(options.baseUrl);
  const agent = new Agent({
    connections: options.maxParallelCalls,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    maxResponseSize: options.maxResponseBytes,
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
  ): Promise<T> {
    if (cancel?.aborted) throw new PartnerUnavailableError(`${operation} call not sent: cancelled`);
    const started = performance.now();
    const report = (outcome: PartnerCall['outcome'], status: number | null) =>
      options.onCall?.({ operation, outcome, status, durationMs: performance.now() - started });
    const bound = callBound(options.timeoutMs, cancel);
    try {
      const response = await request(new URL(path, base), {
        method: 'POST',
        dispatcher: agent,
        signal: bound.signal,
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string>) },
      });
      const result =
        consume && response.statusCode === 200
          ? await consume(response.body)
          : (interpret(response.statusCode, await response.body.text()) as T);
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

  return {
    listTransactions: (state) =>
      limit(async () => {
        const query = state ? `?state=${encodeURIComponent(state)}` : '';
        const body = await call('list', `/api/transaction/${query}`, {});
        if (!Array.isArray(body)) throw new PartnerResponseError('list answer is not a JSON list');
        return body;
      }),
    forEachListed: (state, batchSize, onBatch, signal) =>
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
        try {
          return await call(
            'list',
            `/api/transaction/?state=${encodeURIComponent(state)}`,
            {},
            signal,
            (body) => streamList(body, batchSize, consume),
          );
        } catch (error) {
          throw consumerFailure ? consumerFailure.error : error;
        }
      }),
    updateState: (id, state, signal) =>
      limit(async () => {
        const body = await call(
          'update',
          `/api/transaction/${encodeURIComponent(id)}/`,
          {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ state }).toString(),
          },
          signal,
        );
        return updateOutcome(body, id);
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

function interpret(status: number, text: string): unknown {
  if (status === 404)
    throw new PartnerRejectedRequestError(`partner refused the request (404): ${text.slice(0, 200)}`, status);
  if (status === 429 || status >= 500)
    throw new PartnerUnavailableError(`partner answered ${status}`, status);
  if (status !== 200) throw new PartnerResponseError(`unexpected status ${status}`, status);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PartnerResponseError(`answer is not JSON: ${text.slice(0, 80)}`, status);
  }
}

/** Feeds the body to a streaming parser, handing on the top-level list's entries a batch at a time. */
async function streamList(
  body: AsyncIterable<Buffer>,
  batchSize: number,
  onBatch: (entries: unknown[]) => Promise<void>,
): Promise<number> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  let batch: unknown[] = [];
  let count = 0;
  let started = false;
  parser.onValue = ({ value }) => {
    batch.push(value);
    count++;
  };
  const flush = async () => {
    const entries = batch;
    batch = [];
    if (entries.length > 0) await onBatch(entries);
  };
  const parse = (feed: () => void) => {
    try {
      feed();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new PartnerResponseError(`list answer is not valid JSON: ${message.slice(0, 120)}`, 200);
    }
  };
  for await (const chunk of body) {
    if (!started) {
      const text = chunk.toString('utf8').trimStart();
      if (text.length === 0) continue;
      if (!text.startsWith('[')) throw new PartnerResponseError('list answer is not a JSON list', 200);
      started = true;
    }
    parse(() => parser.write(chunk));
    if (batch.length >= batchSize) await flush();
  }
  if (!started) throw new PartnerResponseError('list answer is empty', 200);
  // The parser ends by itself once the top-level list closed; not ended means it was cut short.
  if (!parser.isEnded)
    throw new PartnerResponseError('list answer is not valid JSON: it ends before the list does', 200);
  await flush();
  return count;
}

function updateOutcome(body: unknown, id: string): UpdateOutcome {
  if (!Array.isArray(body)) throw new PartnerResponseError('update answer is not a JSON list');
  if (body.length === 0) return { applied: false };
  const [payout] = body as unknown[];
  if (body.length !== 1 || typeof payout !== 'object' || payout === null) {
    throw new PartnerResponseError(`update answer has ${body.length} items, expected 1`);
  }
  const answered = (payout as Record<string, unknown>).id;
  if (typeof answered !== 'string' || answered.toLowerCase() !== id.toLowerCase()) {
    throw new PartnerResponseError(`update answer is for payout ${JSON.stringify(answered)}, not ${id}`);
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
  if (error instanceof undiciErrors.ResponseExceededMaxSizeError) {
    return new PartnerUnavailableError(`${operation} answer exceeded the response size limit`);
  }
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return new PartnerUnavailableError(`${operation} call failed: ${name}: ${message}`);
}
