import { randomInt } from 'node:crypto';

/** A source of uniform numbers in [0, 1); seeded so that a run's faults can be replayed. */
export type Random = () => number;

/** mulberry32: 32-bit state, tiny and good enough for fault injection (not for secrets). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

export const randomSeed = (): number => randomInt(2 ** 31);

/** An integer in [min, max], both inclusive. */
export const randomIntBetween = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));
