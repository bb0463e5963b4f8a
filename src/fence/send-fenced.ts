import { setMaxListeners } from 'node:events';
import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { FenceLostError, type Tenure } from './sync-fence.js';
import { PartnerUnavailableError } from '../partner/errors.js';

const HEARTBEAT_EVERY_MS = 1_000;

export type SendOutcome<T> =
  { kind: 'answered'; value: T } | { kind: 'transient' } | { kind: 'refused'; reason: string };

/**
 * Sends one partner call per item while holding the fence, `parallel` at a time. Each call is
 * sent only once the fence is known held, and aborted the moment the fence is lost or the
 * activity is cancelled; every call has settled when this resolves, so the holder releases the
 * fence with nothing of its own in flight (or says so: `callsCutShort`).
 */
export async function sendFenced<I, T>(
  tenure: Tenure,
  items: I[],
  parallel: number,
  send: (item: I, signal: AbortSignal) => Promise<T>,
): Promise<SendOutcome<T>[]> {
  const stop = AbortSignal.any([tenure.signal, cancellationSignal()]);
  setMaxListeners(parallel + 10, stop); // one listener per call in flight
  // The SDK throttles heartbeats anyway; a thousand calls a second need not each ask.
  let lastBeat = 0;
  const beat = () => {
    const now = performance.now();
    if (now - lastBeat < HEARTBEAT_EVERY_MS) return;
    lastBeat = now;
    heartbeat();
  };
  const sendOne = async (item: I): Promise<SendOutcome<T>> => {
    try {
      if (stop.aborted) return { kind: 'transient' };
      await tenure.assertHeld();
      return { kind: 'answered', value: await send(item, stop) };
    } catch (error) {
      if (error instanceof FenceLostError) return { kind: 'transient' };
      if (error instanceof PartnerUnavailableError) {
        // No answer (timeout, abort, connection cut), or one from a proxy in front of the partner
        // (502, 503, 504): the call may still land there. Only the partner's own answer
        // (`callOver`: a 500, a 429, a 200 too large to read) means nothing of it lands later, so
        // the next holder need not wait for it. Its effect is unknown all the same (a 200 too
        // large to read may have applied the update): transient, never confirmed; the next
        // pass's list shows what it did.
        if (!error.callOver) tenure.callsCutShort();
        return { kind: 'transient' };
      }
      return {
        kind: 'refused',
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    } finally {
      beat();
    }
  };
  // `parallel` senders taking the next item in turn: memory holds the calls in flight, not one
  // pending promise per item of the chunk.
  const outcomes = new Array<SendOutcome<T>>(items.length);
  let next = 0;
  const sender = async () => {
    while (next < items.length) {
      const index = next++;
      outcomes[index] = await sendOne(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, sender));
  return outcomes;
}
