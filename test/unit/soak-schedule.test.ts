import { describe, expect, it } from 'vitest';
import { knobPatchSchema } from '../../expenzy/knobs.js';
import {
  actionKinds,
  buildSchedule,
  FIRST_ACTION_MS,
  FLOOD_PAYOUTS,
  formatSchedule,
  HEARTBEAT_TIMEOUT_MS,
  HOST_LOST_AIM_MS,
  HOST_LOST_CUT_MS,
  HOST_LOST_DOWN_MS,
  MAX_FAIL_AFTER_COMMIT_RATE,
  MAX_FAILURE_RATE,
  MAX_LATENCY_MS,
  MAX_LIST_FAILURE_RATE,
  MAX_MALFORMED_RATE,
  MAX_SEED,
  resourceOf,
  SUITE_ACTION_KINDS,
  type SoakAction,
} from '../../tools/soak/schedule.js';

// The soak's schedule is a pure function of its seed and length (tools/soak/schedule.ts): the
// same seed must replay the same faults, every fault must end within the fault phase, and a
// long schedule must use every kind of fault there is (or every kind it was given).

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
          case 'worker-host-lost':
            expect(action.durationMs).toBeGreaterThanOrEqual(HOST_LOST_CUT_MS[0]);
            expect(action.durationMs).toBeLessThanOrEqual(HOST_LOST_CUT_MS[1]);
            expect(action.downMs).toBeGreaterThanOrEqual(HOST_LOST_DOWN_MS[0]);
            expect(action.downMs).toBeLessThanOrEqual(HOST_LOST_DOWN_MS[1]);
            break;
          case 'backlog-flood':
            expect(action.payouts).toBeGreaterThanOrEqual(FLOOD_PAYOUTS[0]);
            expect(action.payouts).toBeLessThanOrEqual(FLOOD_PAYOUTS[1]);
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

  it("shares the worker with a lost host, whose aim, cut and new worker's start end in the phase", () => {
    expect(resourceOf('worker-host-lost')).toBe(resourceOf('worker-sigkill'));
    expect(resourceOf('backlog-flood')).not.toBe(resourceOf('webhooks-dropped'));
    for (const seed of seeds)
      for (const action of buildSchedule({ seed, minutes: 30 }).actions)
        if (action.kind === 'worker-host-lost') {
          expect(action.downMs!).toBeLessThan(action.durationMs!);
          expect(action.atMs + HOST_LOST_AIM_MS + action.durationMs!).toBeLessThanOrEqual(30 * 60_000);
        }
  });

  it('draws a lost host and a flood within two minutes for some seeds', () => {
    const both = Array.from({ length: 100 }, (_, seed) => buildSchedule({ seed, minutes: 2 })).filter(
      ({ actions }) =>
        actions.some((action) => action.kind === 'worker-host-lost') &&
        actions.some((action) => action.kind === 'backlog-flood'),
    );
    expect(both.length).toBeGreaterThan(0);
  });

  it('draws only the kinds given, and never those of the suite lists the new faults', () => {
    expect(SUITE_ACTION_KINDS).not.toContain('worker-host-lost');
    expect(SUITE_ACTION_KINDS).not.toContain('backlog-flood');
    for (const seed of seeds) {
      const kinds = new Set(
        buildSchedule({ seed, minutes: 60, kinds: SUITE_ACTION_KINDS }).actions.map((action) => action.kind),
      );
      expect([...kinds].sort()).toEqual([...SUITE_ACTION_KINDS].sort());
    }
    const only = buildSchedule({ seed: 7, minutes: 10, kinds: ['backlog-flood'] }).actions;
    expect(only.length).toBeGreaterThan(0);
    expect(only.every((action) => action.kind === 'backlog-flood')).toBe(true);
    expect(() => buildSchedule({ seed: 7, minutes: 1, kinds: [] })).toThrow(/kinds must name/);
  });

  // test/soak-seed-81.test.ts and test/soak-seed-179.test.ts name the faults of these first
  // minutes: the suite's kinds must keep drawing exactly them.
  it("gives the suite's seeds 81 and 179 the schedules their test files describe", () => {
    const brief = (seed: number) =>
      buildSchedule({ seed, minutes: 1, kinds: SUITE_ACTION_KINDS }).actions.map((action, index) => {
        expect(action.n).toBe(index + 1);
        return Object.fromEntries(Object.entries(action).filter(([key]) => key !== 'n'));
      });
    expect(brief(81)).toEqual([
      { kind: 'second-worker', atMs: 5000, durationMs: 41889 },
      { kind: 'partner-latency', atMs: 11345, knobs: { latencyMs: '0' } },
      { kind: 'stray-sync', atMs: 16102, workflowId: 'expenzy-sync-stray-81-3' },
      { kind: 'api-sigkill', atMs: 26860, durationMs: 764 },
      { kind: 'worker-sigstop', atMs: 30250, durationMs: 9513 },
      { kind: 'partner-malformed', atMs: 39277, knobs: { malformedRate: 0 } },
      { kind: 'worker-sigkill', atMs: 44857, durationMs: 934 },
      { kind: 'temporal-restart', atMs: 48542 },
      { kind: 'sync-terminate', atMs: 52902 },
    ]);
    expect(brief(179)).toEqual([
      { kind: 'partner-list-failures', atMs: 5000, knobs: { listFailureRate: 0.35 } },
      { kind: 'postgres-restart', atMs: 14151 },
      { kind: 'partner-outage', atMs: 19681, durationMs: 6000 },
      { kind: 'api-sigstop', atMs: 29303, durationMs: 9212 },
      { kind: 'worker-sigstop', atMs: 36289, durationMs: 18216 },
      { kind: 'partner-malformed', atMs: 40203, knobs: { malformedRate: 0.2 } },
      { kind: 'partner-fail-after-commit', atMs: 47473, knobs: { failAfterCommitRate: 0.25 } },
      { kind: 'sync-terminate', atMs: 50687 },
    ]);
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
