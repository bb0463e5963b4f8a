/**
 * Turns a burst of webhooks into few signals without ever dropping the last one.
 *
 * A webhook may be answered by a signal only if that signal was sent after the webhook
 * arrived: an earlier one may have been handled before the payout behind this webhook was
 * committed. So a request made while a signal is in flight waits for one trailing signal,
 * sent as soon as the in-flight one settles and shared by every request made meanwhile.
 */
export class SignalCoalescer {
  private inFlight: Promise<void> | null = null;
  private trailing: Promise<void> | null = null;

  constructor(private readonly send: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.trailing) return this.trailing;
    if (this.inFlight) {
      this.trailing = this.inFlight
        .catch(() => undefined)
        .then(() => {
          this.trailing = null;
          return this.start();
        });
      return this.trailing;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const sending: Promise<void> = this.send().finally(() => {
      if (this.inFlight === sending) this.inFlight = null;
    });
    this.inFlight = sending;
    return sending;
  }
}
