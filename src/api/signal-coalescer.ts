/**
 * Turns a burst of webhooks into few signals without ever dropping the last one.
 *
 * A webhook may be answered by a signal only if that signal was sent after the webhook
 * arrived: an earlier one may have been handled before the payout behind this webhook was
 * committed. So a request made while a signal is in flight waits for one trailing signal,
 * sent as soon as the in-flight one settles and shared by every request made meanwhile.
 * Signals start at least `minIntervalMs` apart, which bounds them to a few dozen a second
 * under any flood, at the cost of that much latency on the webhook's answer.
 */
export class SignalCoalescer {
  private inFlight: Promise<void> | null = null;
  private trailing: Promise<void> | null = null;
  private lastStart = -Infinity;

  constructor(
    private readonly send: () => Promise<void>,
    private readonly minIntervalMs = 0,
  ) {}

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
    const sending: Promise<void> = this.send().finally(() => {
      if (this.inFlight === sending) this.inFlight = null;
    });
    this.inFlight = sending;
    return sending;
  }
}
