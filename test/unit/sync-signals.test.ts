import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SignalCoalescer } from '../../src/api/plugins/sync-signals.js';

/** A send() whose calls are recorded and settled by hand. */
function controlledSend() {
  const calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const send = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, send };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SignalCoalescer', () => {
  it('sends once for a lone request', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SignalCoalescer(send);
    const done = coalescer.request();
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await expect(done).resolves.toBeUndefined();
  });

  it('answers a burst with the in-flight signal plus exactly one trailing signal', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SignalCoalescer(send);
    const first = coalescer.request();
    const burst = Array.from({ length: 99 }, () => coalescer.request());
    expect(calls).toHaveLength(1);

    let burstSettled = false;
    void Promise.all(burst).then(() => (burstSettled = true));
    calls[0]!.resolve();
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(burstSettled).toBe(false); // the burst waits for the signal sent after it arrived

    calls[1]!.resolve();
    await Promise.all(burst);
  });

  it('sends a new trailing signal for a request made while the trailing one is in flight', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SignalCoalescer(send);
    void coalescer.request();
    const second = coalescer.request();
    calls[0]!.resolve();
    await tick();
    expect(calls).toHaveLength(2);
    const third = coalescer.request();
    calls[1]!.resolve();
    await second;
    await tick();
    expect(calls).toHaveLength(3);
    calls[2]!.resolve();
    await third;
  });

  it('fails the requests a failed signal answers, and still sends the trailing one', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SignalCoalescer(send);
    const first = coalescer.request();
    const second = coalescer.request();
    calls[0]!.reject(new Error('temporal down'));
    await expect(first).rejects.toThrow('temporal down');
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve();
    await expect(second).resolves.toBeUndefined();
  });

  it('starts afresh once idle', async () => {
    const { calls, send } = controlledSend();
    const coalescer = new SignalCoalescer(send);
    const first = coalescer.request();
    calls[0]!.resolve();
    await first;
    void coalescer.request();
    expect(calls).toHaveLength(2);
  });

  describe('handOff', () => {
    it('waits for the first signal: nothing yet says Temporal accepts them', async () => {
      const { calls, send } = controlledSend();
      const coalescer = new SignalCoalescer(send);
      let settled = false;
      const first = coalescer.handOff().then(() => (settled = true));
      await tick();
      expect(settled).toBe(false);
      calls[0]!.resolve();
      await first;
      expect(settled).toBe(true);
    });

    it('resolves at once once signals are accepted, and still sends one after the call', async () => {
      const { calls, send } = controlledSend();
      const coalescer = new SignalCoalescer(send);
      const first = coalescer.handOff();
      calls[0]!.resolve();
      await first;

      await coalescer.handOff(); // resolves with its signal still in flight
      expect(calls).toHaveLength(2);
      await Promise.all(Array.from({ length: 50 }, () => coalescer.handOff()));
      expect(calls).toHaveLength(2); // the burst shares one trailing signal
      calls[1]!.resolve();
      await tick();
      expect(calls).toHaveLength(3);
      calls[2]!.resolve();
      await coalescer.close();
    });
  });

  // Every timer and clock below is fake: each interval and backoff is asserted to the
  // millisecond, and no assertion depends on how busy the machine is.
  describe('timing', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A send() settled by hand, recording when (in fake ms since the test began) each started. */
    function timedSend() {
      const began = performance.now();
      const starts: number[] = [];
      const calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
      const send = () =>
        new Promise<void>((resolve, reject) => {
          starts.push(performance.now() - began);
          calls.push({ resolve, reject });
        });
      return { starts, calls, send };
    }

    /** Lets promise callbacks run without moving the clock. */
    const settle = () => vi.advanceTimersByTimeAsync(0);

    it('spaces signals exactly minIntervalMs apart, and sends at once after that', async () => {
      const { starts, calls, send } = timedSend();
      const coalescer = new SignalCoalescer(send, { minIntervalMs: 30 });
      const first = coalescer.request();
      calls[0]!.resolve();
      await first;

      const second = coalescer.request(); // 0 ms after the first: waits for the interval
      await vi.advanceTimersByTimeAsync(29);
      expect(starts).toEqual([0]);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual([0, 30]);
      calls[1]!.resolve();
      await second;

      await vi.advanceTimersByTimeAsync(10);
      const third = coalescer.request(); // 10 ms after the second: waits 20 more
      await vi.advanceTimersByTimeAsync(19);
      expect(starts).toEqual([0, 30]);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual([0, 30, 60]);
      calls[2]!.resolve();
      await third;

      await vi.advanceTimersByTimeAsync(45);
      void coalescer.request(); // the interval has passed: no wait
      expect(starts).toEqual([0, 30, 60, 105]);
      calls[3]!.resolve();
      await coalescer.close();
    });

    it('starts the trailing signal when the in-flight one settles, if the interval passed meanwhile', async () => {
      const { starts, calls, send } = timedSend();
      const coalescer = new SignalCoalescer(send, { minIntervalMs: 30 });
      void coalescer.request();
      const trailing = coalescer.request();
      await vi.advanceTimersByTimeAsync(50); // the first signal takes 50 ms
      expect(starts).toEqual([0]);
      calls[0]!.resolve();
      await settle();
      expect(starts).toEqual([0, 50]);
      calls[1]!.resolve();
      await trailing;
      await coalescer.close();
    });

    it('sends a failed background signal again, backing off, until Temporal accepts one', async () => {
      const { starts, calls, send } = timedSend();
      const failures: number[] = [];
      const coalescer = new SignalCoalescer(send, {
        firstRetryMs: 10,
        maxRetryMs: 20,
        onBackgroundFailure: (_error, retryInMs) => failures.push(retryInMs),
      });
      const first = coalescer.handOff();
      calls[0]!.resolve();
      await first;

      await coalescer.handOff(); // answered at once: its signal goes in the background
      calls[1]!.reject(new Error('temporal down'));
      await vi.advanceTimersByTimeAsync(9);
      expect(starts).toEqual([0, 0]);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual([0, 0, 10]); // after 10 ms
      calls[2]!.reject(new Error('temporal down'));
      await vi.advanceTimersByTimeAsync(19);
      expect(starts).toHaveLength(3);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual([0, 0, 10, 30]); // after 20 ms
      calls[3]!.reject(new Error('temporal down'));
      await vi.advanceTimersByTimeAsync(20);
      expect(starts).toEqual([0, 0, 10, 30, 50]); // still 20 ms: the cap
      calls[4]!.resolve();
      await settle();
      expect(failures).toEqual([10, 20, 20]);

      // Accepted again: the backoff starts over from firstRetryMs.
      await coalescer.handOff();
      calls[5]!.reject(new Error('temporal down'));
      await settle();
      expect(failures).toEqual([10, 20, 20, 10]);
      await vi.advanceTimersByTimeAsync(10);
      expect(starts).toEqual([0, 0, 10, 30, 50, 50, 60]);
      calls[6]!.resolve();
      await coalescer.close();
    });

    it('waits again once a signal failed, rejects if the next fails, and keeps retrying', async () => {
      const { starts, calls, send } = timedSend();
      const coalescer = new SignalCoalescer(send, { firstRetryMs: 10 });
      const first = coalescer.handOff();
      calls[0]!.reject(new Error('temporal down'));
      await expect(first).rejects.toThrow('temporal down');

      const second = coalescer.handOff();
      await settle();
      expect(calls).toHaveLength(2);
      calls[1]!.reject(new Error('still down'));
      await expect(second).rejects.toThrow('still down');
      await vi.advanceTimersByTimeAsync(10);
      expect(starts).toEqual([0, 0, 10]); // the background retry, firstRetryMs later
      calls[2]!.resolve();
      await settle();
      await coalescer.handOff(); // accepted again: answered at once
      expect(calls).toHaveLength(4);
      calls[3]!.resolve();
      await coalescer.close();
    });

    it('stops retrying once closed', async () => {
      const { calls, send } = timedSend();
      const coalescer = new SignalCoalescer(send, { firstRetryMs: 10 });
      const first = coalescer.handOff();
      calls[0]!.reject(new Error('temporal down'));
      await expect(first).rejects.toThrow();
      expect(vi.getTimerCount()).toBe(1); // the retry, 10 ms away
      await coalescer.close();
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls).toHaveLength(1);
    });
  });
});
