import { describe, expect, it } from 'vitest';
import { Knobs } from '../../expenzy/knobs.js';
import { seededRandom } from '../../expenzy/random.js';
import { randomAmount, randomRecipient } from '../../expenzy/generate.js';

describe('seededRandom', () => {
  it('repeats its sequence for a seed, differs for another, stays in [0, 1)', () => {
    const draw = (seed: number) => Array.from({ length: 1000 }, seededRandom(seed));
    const numbers = draw(42);
    expect(draw(42)).toEqual(numbers);
    expect(draw(43)).not.toEqual(numbers);
    expect(Math.min(...numbers)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...numbers)).toBeLessThan(1);
    const mean = numbers.reduce((sum, n) => sum + n, 0) / numbers.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('Knobs', () => {
  it('rolls each rate as a probability: 0 never, 1 always, 0.3 about 30 %', () => {
    const knobs = new Knobs({ failureRate: 0, failAfterCommitRate: 1, listFailureRate: 0.3 }, { seed: 5 });
    const rolls = (knob: 'failureRate' | 'failAfterCommitRate' | 'listFailureRate') =>
      Array.from({ length: 1000 }, () => knobs.roll(knob)).filter(Boolean).length;
    expect(rolls('failureRate')).toBe(0);
    expect(rolls('failAfterCommitRate')).toBe(1000);
    expect(rolls('listFailureRate')).toBeGreaterThan(250);
    expect(rolls('listFailureRate')).toBeLessThan(350);
  });

  it('gives a fixed latency or one drawn from the range', () => {
    expect(new Knobs({ latencyMs: '250' }).latency()).toBe(250);
    expect(new Knobs().latency()).toBe(0);
    const knobs = new Knobs({ latencyMs: '1000-3000' }, { seed: 1 });
    const delays = Array.from({ length: 500 }, () => knobs.latency());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3000);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(1500);
  });

  it('update validates the result as a whole and keeps the old knobs on error', () => {
    const knobs = new Knobs({ failureRate: 0.1 });
    expect(knobs.update({ latencyMs: 300, amountAsNumber: true })).toMatchObject({
      failureRate: 0.1,
      latencyMs: '300',
      amountAsNumber: true,
    });
    expect(() => knobs.update({ timeFormat: 'iso', failureRate: 3 })).toThrow(/failureRate/);
    expect(knobs.settings).toMatchObject({ failureRate: 0.1, timeFormat: 'iso' });
  });

  it('refuses bad initial values', () => {
    expect(() => new Knobs({ malformedKinds: [] })).toThrow(/malformedKinds/);
  });

  it('picks malformed kinds only from the allowed ones, at the configured rate', () => {
    const knobs = new Knobs(
      { malformedRate: 0.5, malformedKinds: ['bad_amount', 'unknown_state'] },
      { seed: 3 },
    );
    const picks = Array.from({ length: 400 }, () => knobs.pickMalformed());
    expect(new Set(picks)).toEqual(new Set([null, 'bad_amount', 'unknown_state']));
    expect(picks.filter((pick) => pick === null).length).toBeGreaterThan(150);
    expect(picks.filter((pick) => pick === null).length).toBeLessThan(250);
  });

  it('holds an outage until its end and reports the seconds left', () => {
    let now = 0;
    const knobs = new Knobs({}, { outageSeconds: 10, now: () => now });
    expect(knobs.inOutage()).toBe(true);
    now = 4_000;
    expect(knobs.view().outageSecondsLeft).toBe(6);
    now = 10_000;
    expect(knobs.inOutage()).toBe(false);
    knobs.startOutage(1);
    expect(knobs.inOutage()).toBe(true);
    knobs.startOutage(0);
    expect(knobs.inOutage()).toBe(false);
    expect(knobs.view().outageSecondsLeft).toBe(0);
  });

  it('has a seed even when none is given, so a run can be replayed', () => {
    const knobs = new Knobs();
    expect(Number.isInteger(knobs.seed)).toBe(true);
    const replay = new Knobs({}, { seed: knobs.seed });
    expect(Array.from({ length: 5 }, replay.random)).toEqual(Array.from({ length: 5 }, knobs.random));
  });
});

describe('generated payouts', () => {
  it('have amounts from 1.00 to 99.99 with two decimals, and FI account numbers', () => {
    const random = seededRandom(11);
    const amounts = Array.from({ length: 2000 }, () => randomAmount(random));
    for (const amount of amounts) expect(amount).toMatch(/^[1-9]\d?\.\d{2}$/);
    expect(randomAmount(() => 0)).toBe('1.00');
    expect(randomAmount(() => 0.999_999_99)).toBe('99.99');
    expect(randomAmount(() => 0.5)).toBe('50.50');
    expect(randomRecipient(random)).toMatch(/^FI\d{16}$/);
  });
});
