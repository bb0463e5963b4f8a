import { describe, expect, it, vi } from 'vitest';
import { SignalCoalescer } from '../../src/api/signal-coalescer.js';

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

  it('spaces signals at least minIntervalMs apart', async () => {
    const starts: number[] = [];
    const coalescer = new SignalCoalescer(
      async () => {
        starts.push(performance.now());
      },
      { minIntervalMs: 30 },
    );
    await coalescer.request();
    await coalescer.request();
    await coalescer.request();
    expect(starts).toHaveLength(3);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(30);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(30);
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

    it('sends a failed background signal again, backing off, until Temporal accepts one', async () => {
      const { calls, send } = controlledSend();
      const failures: number[] = [];
      const coalescer = new SignalCoalescer(send, {
        firstRetryMs: 10,
        maxRetryMs: 20,
        onBackgroundFailure: (_error, retryInMs) => failures.push(retryInMs),
      });
      const first = coalescer.handOff();
      calls[0]!.resolve();
      await first;

      await coalescer.handOff();
      calls[1]!.reject(new Error('temporal down'));
      await vi.waitFor(() => expect(calls).toHaveLength(3));
      calls[2]!.reject(new Error('temporal down'));
      await vi.waitFor(() => expect(calls).toHaveLength(4));
      calls[3]!.resolve();
      await tick();
      expect(failures).toEqual([10, 20]);
      await coalescer.close();
    });

    it('waits again once a signal failed, rejects if the next fails, and keeps retrying', async () => {
      const { calls, send } = controlledSend();
      const coalescer = new SignalCoalescer(send, { firstRetryMs: 10 });
      const first = coalescer.handOff();
      calls[0]!.reject(new Error('temporal down'));
      await expect(first).rejects.toThrow('temporal down');

      const second = coalescer.handOff();
      await tick();
      expect(calls).toHaveLength(2);
      calls[1]!.reject(new Error('still down'));
      await expect(second).rejects.toThrow('still down');
      await vi.waitFor(() => expect(calls).toHaveLength(3)); // the background retry
      calls[2]!.resolve();
      await tick();
      await coalescer.handOff(); // accepted again: answered at once
      expect(calls).toHaveLength(4);
      calls[3]!.resolve();
      await coalescer.close();
    });

    it('stops retrying once closed', async () => {
      const { calls, send } = controlledSend();
      const coalescer = new SignalCoalescer(send, { firstRetryMs: 10 });
      const first = coalescer.handOff();
      calls[0]!.reject(new Error('temporal down'));
      await expect(first).rejects.toThrow();
      await coalescer.close();
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(calls).toHaveLength(1);
    });
  });
});
