import { z } from 'zod';
import { randomIntBetween, randomSeed, seededRandom, type Random } from './random.js';

export const malformedKinds = [
  'bad_amount',
  'bad_id',
  'long_recipient',
  'bad_timestamp',
  'missing_field',
  'unknown_state',
] as const;
export type MalformedKind = (typeof malformedKinds)[number];

/**
 * Poison payouts: text or values that a lax reader takes and a database refuses to store
 * (U+0000, a lone UTF-16 surrogate, a year beyond 9999 once in UTC, an amount too large for
 * numeric(16, 2)). Never drawn unless named: not in malformedKinds' default.
 */
export const poisonKinds = [
  'nul_recipient',
  'nul_id',
  'lone_surrogate',
  'year_10000',
  'huge_amount',
] as const;
export type PoisonKind = (typeof poisonKinds)[number];

/** Every defect a payout can be stored with: `malformedKinds` may name any of them. */
export const payoutDefects = [...malformedKinds, ...poisonKinds] as const;
export type PayoutDefect = (typeof payoutDefects)[number];

export const timeFormats = ['iso', 'iso-z', 'iso-seconds', 'http-date'] as const;
export type TimeFormat = (typeof timeFormats)[number];

/**
 * How the partner refuses every update while the knob is on: `empty` answers `[]` (its "failed"),
 * `404` a JSON error, as for a state it does not allow. Nothing is applied either way.
 */
export const updateRefusals = ['off', 'empty', '404'] as const;
export type UpdateRefusal = (typeof updateRefusals)[number];

const rate = z.number().min(0).max(1);

const latencyBounds = (latencyMs: string): [number, number] => {
  const [min = 0, max = min] = latencyMs.split('-').map(Number);
  return [min, max];
};

// At most six digits: a delay must stay far below setTimeout's 2^31 ms limit.
const latency = z
  .union([
    z.int().min(0).max(999_999),
    z.string().regex(/^\d{1,6}(-\d{1,6})?$/, 'expected milliseconds: "250" or a range "1000-3000"'),
  ])
  .transform(String)
  .refine((text) => latencyBounds(text)[0] <= latencyBounds(text)[1], 'a range goes from low to high');

export const knobSettingsSchema = z.strictObject({
  failureRate: rate,
  failAfterCommitRate: rate,
  latencyMs: latency,
  /** The list call's own delay; null: `latencyMs`, as for every other call. */
  listLatencyMs: latency.nullable(),
  listFailureRate: rate,
  refuseUpdates: z.enum(updateRefusals),
  malformedRate: rate,
  malformedKinds: z.array(z.enum(payoutDefects)).min(1),
  timeFormat: z.enum(timeFormats),
  amountAsNumber: z.boolean(),
});
export type KnobSettings = z.output<typeof knobSettingsSchema>;

/** What PATCH /admin/knobs accepts: any subset of the knobs. */
export const knobPatchSchema = knobSettingsSchema.partial();
export type KnobPatch = z.input<typeof knobPatchSchema>;

export const defaultKnobs: KnobSettings = {
  failureRate: 0.05,
  failAfterCommitRate: 0,
  latencyMs: '0',
  listLatencyMs: null,
  listFailureRate: 0,
  refuseUpdates: 'off',
  malformedRate: 0,
  malformedKinds: [...malformedKinds],
  timeFormat: 'iso',
  amountAsNumber: false,
};

export interface KnobsOptions {
  /** Same seed, same sequence of faults (for the same sequence of calls). */
  seed?: number;
  /** An outage that starts with the process (EXPENZY_OUTAGE_SECONDS). */
  outageSeconds?: number;
  now?: () => number;
}

/** The simulator's fault settings, held in memory and changed at run time by the admin routes. */
export class Knobs {
  readonly seed: number;
  readonly random: Random;
  readonly #now: () => number;
  #settings: KnobSettings;
  #outageEndsAt = 0;

  constructor(initial: Partial<KnobSettings> = {}, options: KnobsOptions = {}) {
    this.#settings = knobSettingsSchema.parse({ ...defaultKnobs, ...initial });
    this.seed = options.seed ?? randomSeed();
    this.random = seededRandom(this.seed);
    this.#now = options.now ?? Date.now;
    this.startOutage(options.outageSeconds ?? 0);
  }

  get settings(): Readonly<KnobSettings> {
    return this.#settings;
  }

  /** Validates the whole result, so a bad patch changes nothing. Throws a ZodError. */
  update(patch: KnobPatch): KnobSettings {
    this.#settings = knobSettingsSchema.parse({ ...this.#settings, ...patch });
    return this.#settings;
  }

  /** True with the probability the knob holds. */
  roll(knob: 'failureRate' | 'failAfterCommitRate' | 'listFailureRate'): boolean {
    return this.random() < this.#settings[knob];
  }

  /** Milliseconds to wait before answering this call (a list call: `listLatencyMs` when set). */
  latency(call: 'list' | 'other' = 'other'): number {
    const { latencyMs, listLatencyMs } = this.#settings;
    const [min, max] = latencyBounds(call === 'list' && listLatencyMs !== null ? listLatencyMs : latencyMs);
    return randomIntBetween(this.random, min, max);
  }

  /** The defect a new payout is stored with, if any. */
  pickMalformed(): PayoutDefect | null {
    if (this.random() >= this.#settings.malformedRate) return null;
    const kinds = this.#settings.malformedKinds;
    return kinds[randomIntBetween(this.random, 0, kinds.length - 1)] ?? null;
  }

  /** Zero seconds ends a running outage. */
  startOutage(seconds: number): void {
    this.#outageEndsAt = this.#now() + seconds * 1000;
  }

  inOutage(): boolean {
    return this.#now() < this.#outageEndsAt;
  }

  view(): KnobSettings & { outageSecondsLeft: number; seed: number } {
    const outageSecondsLeft = Math.max(0, this.#outageEndsAt - this.#now()) / 1000;
    return { ...this.#settings, outageSecondsLeft, seed: this.seed };
  }
}
