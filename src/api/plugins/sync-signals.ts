import fp from 'fastify-plugin';
import type { SyncClient } from '../../temporal/sync-client.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Hands a webhook's "payouts may be waiting" to the sync, coalesced (below). */
    syncSignals: SignalCoalescer;
  }
}

export interface SyncSignalsOptions {
  client: Pick<SyncClient, 'requestSync'>;
  /** SIGNAL_MIN_INTERVAL. */
  minIntervalMs: number;
}

/**
 * The webhook's way to Temporal: one coalescer per app, whose signals are signal-with-start
 * calls of the sync client, counted and timed in the app's metrics. Before the app closes (and
 * the caller closes the client), the signals acknowledged webhooks asked for are sent.
 */
export const syncSignalsPlugin = fp<SyncSignalsOptions>(
  async (app, { client, minIntervalMs }) => {
    const { signalsSent, signalSeconds } = app.metrics;
    const send = async () => {
      const stopTimer = signalSeconds.startTimer();
      try {
        await client.requestSync();
        signalsSent.inc({ result: 'ok' });
      } catch (error) {
        signalsSent.inc({ result: 'error' });
        throw error;
      } finally {
        stopTimer();
      }
    };
    const coalescer = new SignalCoalescer(send, {
      minIntervalMs,
      onBackgroundFailure: (error, retryInMs) =>
        app.log.warn({ err: error, retryInMs }, 'signal for acknowledged webhooks failed; sending it again'),
    });
    app.decorate('syncSignals', coalescer);
    app.addHook('preClose', () => coalescer.close());
  },
  { name: 'sync-signals', dependencies: ['metrics'] },
);

export interface SignalCoalescerOptions {
  /** Least time between the starts of two signals. */
  minIntervalMs?: number;
  /** First wait before a failed background signal is sent again; it doubles up to `maxRetryMs`. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** Told when a signal that nobody waits for failed and will be sent again. */
  onBackgroundFailure?: (error: unknown, retryInMs: number) => void;
}

/**
 * Turns a burst of webhooks into few signals without ever dropping the last one.
 *
 * A request is served only by a signal sent after it was made: an earlier one may have been
 * handled before the payout behind this webhook was committed. So a request made while a signal
 * is in flight gets one trailing signal, sent as soon as the in-flight one settles and shared by
 * every request made meanwhile. Signals start at least `minIntervalMs` apart, which bounds them
 * to a few dozen a second under any flood.
 *
 * `request()` waits for that signal. `handOff()` waits only while signals are failing: when the
 * last one was accepted it returns at once and the signal is sent in the background, again and
 * again until Temporal accepts one.
 */
export class SignalCoalescer {
  private inFlight: Promise<void> | null = null;
  private trailing: Promise<void> | null = null;
  private lastStart = -Infinity;
  private lastAccepted = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly options: SignalCoalescerOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 0;
    this.firstRetryMs = options.firstRetryMs ?? 500;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    this.retryMs = this.firstRetryMs;
  }

  /** Resolves once a signal sent after this call is accepted; rejects if that signal fails. */
  request(): Promise<void> {
    if (this.trailing) return this.trailing;
    if (this.inFlight || this.tooSoon()) {
      this.trailing = (this.inFlight ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => this.waitForInterval())
        .then(() => {
          this.trailing = null;
          return this.start();
        });
      return this.trailing;
    }
    return this.start();
  }

  /**
   * Resolves as soon as the request may be acknowledged: at once while Temporal accepts signals,
   * otherwise like `request()`, so that a caller learns when Temporal cannot be reached. Either
   * way a failed signal is sent again in the background until one is accepted.
   */
  async handOff(): Promise<void> {
    if (this.lastAccepted) return this.requestInBackground();
    try {
      await this.request();
    } catch (error) {
      this.retryLater(error);
      throw error;
    }
  }

  /** Stops background retries and waits for the signals already started (never rejects). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await Promise.allSettled([this.inFlight, this.trailing]);
  }

  private requestInBackground(): void {
    this.request().catch((error: unknown) => this.retryLater(error));
  }

  private retryLater(error: unknown): void {
    if (this.closed || this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    this.options.onBackgroundFailure?.(error, wait);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.requestInBackground();
    }, wait).unref();
  }

  private tooSoon(): boolean {
    return performance.now() < this.lastStart + this.minIntervalMs;
  }

  private async waitForInterval(): Promise<void> {
    // Timers may fire a little early, so wait until the interval has really passed.
    while (this.tooSoon()) {
      const wait = this.lastStart + this.minIntervalMs - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    }
  }

  private start(): Promise<void> {
    this.lastStart = performance.now();
    const sending: Promise<void> = this.send()
      .then(
        () => {
          this.lastAccepted = true;
          this.retryMs = this.firstRetryMs;
        },
        (error: unknown) => {
          this.lastAccepted = false;
          throw error;
        },
      )
      .finally(() => {
        if (this.inFlight === sending) this.inFlight = null;
      });
    this.inFlight = sending;
    return sending;
  }
}
