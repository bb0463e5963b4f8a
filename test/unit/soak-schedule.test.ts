import { describe, expect, it } from 'vitest';
import { knobPatchSchema } from '../../expenzy/knobs.js';
import {
  actionKinds,
  buildSchedule,
  FIRST_ACTION_MS,
  formatSchedule,
  HEARTBEAT_TIMEOUT_MS,
  MAX_FAIL_AFTER_COMMIT_RATE,
  MAX_FAILURE_RATE,
  MAX_LATENCY_MS,
  MAX_LIST_FAILURE_RATE,
  MAX_MALFORMED_RATE,
  MAX_SEED,
  resourceOf,
  type SoakAction,
} from '../../tools/soak/schedule.js';

// The soak's schedule is a pure function of its seed and length (tools/soak/schedule.ts): the
// same seed must replay the same faults, every fault must end within the fault phase, and a
// long schedule must use every kind of fault there is.

const seeds = [0, 1, 2, 3, 42, 1_000_003, MAX_SEED];

describe('soak schedule', () => {
  it('is the same for the same seed and length, and prints the same', () => {
    for (const seed of seeds) {
      const first = buildSchedule({ seed, minutes: 10 });
      const second = buildSchedule({ seed, minutes: 10 });
      expect(second).toEqual(first);
      expect(formatSchedule(second)).toBe(formatSchedule(first));
    }
  });

  it('differs between seeds', () => {
    const printed = new Set(seeds.map((seed) => formatSchedule(buildSchedule({ seed, minutes: 5 }))));
    expect(printed.size).toBe(seeds.length);
  });

  it('keeps every action inside the fault phase, in order, numbered from 1', () => {
    for (const seed of seeds) {
      for (const minutes of [0.5, 1, 2, 30]) {
        const schedule = buildSchedule({ seed, minutes });
        expect(schedule.faultPhaseMs).toBe(minutes * 60_000);
        schedule.actions.forEach((action, index) => {
          expect(action.n).toBe(index + 1);
          expect(action.atMs).toBeGreaterThanOrEqual(FIRST_ACTION_MS);
          expect(action.atMs + (action.durationMs ?? 0)).toBeLessThanOrEqual(schedule.faultPhaseMs);
          if (index > 0) expect(action.atMs).toBeGreaterThan(schedule.actions[index - 1]!.atMs);
        });
      }
    }
  });

  it('never overlaps two actions on one resource (a worker is not killed while it is stalled)', () => {
    for (const seed of seeds) {
      const lastEnd = new Map<string, SoakAction>();
      for (const action of buildSchedule({ seed, minutes: 60 }).actions) {
        const resource = resourceOf(action.kind);
        const previous = lastEnd.get(resource);
        if (previous) expect(action.atMs).toBeGreaterThanOrEqual(previous.atMs + (previous.durationMs ?? 0));
        lastEnd.set(resource, action);
      }
    }
  });

  it('keeps every parameter within its bounds and every knob patch valid for the simulator', () => {
    for (const seed of seeds) {
      for (const action of buildSchedule({ seed, minutes: 60 }).actions) {
        if (action.knobs) {
          expect(action.kind.startsWith('partner-')).toBe(true);
          expect(() => knobPatchSchema.parse(action.knobs)).not.toThrow();
          const { failureRate, failAfterCommitRate, listFailureRate, malformedRate, latencyMs } =
            action.knobs;
          if (failureRate !== undefined) expect(failureRate).toBeLessThanOrEqual(MAX_FAILURE_RATE);
          if (failAfterCommitRate !== undefined)
            expect(failAfterCommitRate).toBeLessThanOrEqual(MAX_FAIL_AFTER_COMMIT_RATE);
          if (listFailureRate !== undefined)
            expect(listFailureRate).toBeLessThanOrEqual(MAX_LIST_FAILURE_RATE);
          if (malformedRate !== undefined) expect(malformedRate).toBeLessThanOrEqual(MAX_MALFORMED_RATE);
          if (latencyMs !== undefined) {
            const bounds = String(latencyMs).split('-').map(Number);
            expect(Math.max(...bounds)).toBeLessThanOrEqual(MAX_LATENCY_MS);
          }
        }
        switch (action.kind) {
          case 'worker-sigstop':
            expect(action.durationMs).toBeGreaterThanOrEqual(2_000);
            expect(action.durationMs).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_MS + 15_000);
            break;
          case 'worker-sigkill':
          case 'api-sigkill':
            expect(action.durationMs).toBeLessThanOrEqual(3_000);
            break;
          case 'partner-outage':
            expect(action.durationMs).toBeGreaterThanOrEqual(3_000);
            expect(action.durationMs).toBeLessThanOrEqual(20_000);
            break;
          case 'webhooks-dropped':
            expect(action.dropShare).toBeGreaterThanOrEqual(0.5);
            expect(action.dropShare).toBeLessThanOrEqual(1);
            break;
          case 'stray-sync':
            expect(action.workflowId).toBe(`expenzy-sync-stray-${seed}-${action.n}`);
            break;
        }
      }
    }
  });

  it('uses every kind of action over a long schedule, and stalls some workers past the heartbeat timeout', () => {
    for (const seed of seeds) {
      const { actions } = buildSchedule({ seed, minutes: 60 });
      const kinds = new Set(actions.map((action) => action.kind));
      expect([...kinds].sort()).toEqual([...actionKinds].sort());
      const stalls = actions.filter((action) => action.kind === 'worker-sigstop');
      expect(stalls.some((action) => action.durationMs! > HEARTBEAT_TIMEOUT_MS)).toBe(true);
      expect(stalls.some((action) => action.durationMs! < HEARTBEAT_TIMEOUT_MS)).toBe(true);
      // Knobs are also turned off again, not only on.
      expect(actions.some((action) => action.knobs?.failureRate === 0)).toBe(true);
    }
  });

  it('has a few actions even in a short run', () => {
    for (const seed of seeds)
      expect(buildSchedule({ seed, minutes: 1 }).actions.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a bad seed or length, naming it', () => {
    expect(() => buildSchedule({ seed: -1, minutes: 1 })).toThrow(/seed must be a whole number/);
    expect(() => buildSchedule({ seed: 1.5, minutes: 1 })).toThrow(/seed/);
    expect(() => buildSchedule({ seed: MAX_SEED + 1, minutes: 1 })).toThrow(/seed/);
    expect(() => buildSchedule({ seed: 1, minutes: 0 })).toThrow(/minutes must be a number above 0/);
    expect(() => buildSchedule({ seed: 1, minutes: Number.NaN })).toThrow(/minutes/);
    expect(() => buildSchedule({ seed: 1, minutes: 24 * 60 + 1 })).toThrow(/minutes/);
  });
});
