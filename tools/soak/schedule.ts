import ms, { type StringValue } from 'ms';
import type { KnobPatch } from '../../expenzy/knobs.js';
import { randomIntBetween, seededRandom, type Random } from '../../expenzy/random.js';
import { markOptions } from '../../src/workflows/activity-options.js';

/**
 * The soak's fault schedule: a pure function of a seed and a length. The same seed gives the
 * same list of timed actions, so a run that found something can be replayed; what the stack
 * does in between (which activity a kill lands in) is not part of the schedule.
 */

/**
 * The kinds `make test`'s soak files draw from (test/support/soak-suite.ts). Their test names
 * list the faults of their seeds' first minute, which any further kind would change; and the
 * suite runs without iptables and on two cores, where a lost host or a flood of thousands does
 * not fit a minute. The order is part of the draw: the same list, the same schedule.
 */
const suiteKinds = [
  'worker-sigkill',
  'worker-sigstop',
  'api-sigkill',
  'api-sigstop',
  'temporal-restart',
  'postgres-restart',
  'partner-failure-rate',
  'partner-fail-after-commit',
  'partner-latency',
  'partner-list-failures',
  'partner-malformed',
  'partner-outage',
  'webhooks-dropped',
  'second-worker',
  'sync-terminate',
  'sync-reset',
  'stray-sync',
] as const;

export const actionKinds = [...suiteKinds, 'worker-host-lost', 'backlog-flood'] as const;
export type ActionKind = (typeof actionKinds)[number];

export const SUITE_ACTION_KINDS: readonly ActionKind[] = suiteKinds;

export interface SoakAction {
  /** Position in the schedule, from 1. */
  n: number;
  kind: ActionKind;
  /** Milliseconds after the fault phase began. */
  atMs: number;
  /**
   * How long the fault lasts: a process down before its restart or stalled, an outage, a
   * window; for a lost host, how long its connections stay cut.
   */
  durationMs?: number;
  /** How long the lost host's worker stays down before a new one starts (worker-host-lost). */
  downMs?: number;
  /** Payouts created at once, without webhooks (backlog-flood). */
  payouts?: number;
  /** The partner knob set (the partner-* kinds but the outage). */
  knobs?: KnobPatch;
  /** Share of webhooks dropped (webhooks-dropped). */
  dropShare?: number;
  /** The stray sync's workflow id (stray-sync). */
  workflowId?: string;
}

export interface SoakSchedule {
  seed: number;
  minutes: number;
  /** Faults happen from 0 to this; then the quiet drain. */
  faultPhaseMs: number;
  actions: SoakAction[];
}

/** The largest seed: mulberry32 keeps 32 bits, and 2^31 - 1 is what a shell user types safely. */
export const MAX_SEED = 2 ** 31 - 1;
/** A day of faults is more than any run this is for; it bounds a typo. */
export const MAX_MINUTES = 24 * 60;

/** Sending and fetching steps' heartbeat timeout: a stall beyond it makes Temporal retry elsewhere. */
export const HEARTBEAT_TIMEOUT_MS = ms(markOptions.heartbeatTimeout as StringValue);

/**
 * The partner's latency stays well below EXPENZY_CALL_TIMEOUT (10 s): a call the worker gave up
 * on may still be applied afterwards, the one case the design does not cover
 * (docs/architecture.md, "Late applies"). A soak that found it would find nothing new.
 */
export const MAX_LATENCY_MS = 2_000;
export const MAX_FAILURE_RATE = 0.5;
export const MAX_FAIL_AFTER_COMMIT_RATE = 0.3;
export const MAX_LIST_FAILURE_RATE = 0.5;
export const MAX_MALFORMED_RATE = 0.2;

/** The producer runs alone this long first, so the first fault meets payouts in flight. */
export const FIRST_ACTION_MS = 5_000;
/** No fault starts in the last seconds, and every one has ended by the end of the phase. */
const LAST_START_MARGIN_MS = 5_000;
const END_MARGIN_MS = 2_000;
/** Between two actions: a few seconds, so faults overlap and each also meets a working system. */
const GAP_MS: [number, number] = [3_000, 12_000];

interface KindSpec {
  /** Two actions on one resource never overlap (a worker is not killed while stalled). */
  resource: string;
  weight: number;
  /** The action's parameters, or null when it cannot end within `roomMs`. */
  plan(
    random: Random,
    roomMs: number,
    context: { seed: number; n: number },
  ): Omit<SoakAction, 'n' | 'kind' | 'atMs'> | null;
  /** How long the resource stays busy after the start: the fault plus the time to recover. */
  busyMs(action: SoakAction): number;
}

const between = (random: Random, [low, high]: [number, number]) => randomIntBetween(random, low, high);
/** A multiple of `step` from 0 to `max`, 0 a third of the time (a knob turned off again). */
function rate(random: Random, max: number, step = 0.05): number {
  if (random() < 1 / 3) return 0;
  return Math.round(randomIntBetween(random, 1, Math.round(max / step)) * step * 100) / 100;
}
const within = (durationMs: number, roomMs: number) => (durationMs <= roomMs ? { durationMs } : null);

const knob = (patch: (random: Random) => KnobPatch, resource: string): KindSpec => ({
  resource,
  weight: 1.5,
  plan: (random) => ({ knobs: patch(random) }),
  busyMs: () => 5_000,
});

/** Restarting a worker under tsx bundles the workflows: about ten seconds on two busy cores. */
const WORKER_RESTART_MS = 20_000;

/**
 * A lost host's connections stay cut this long: past PostgreSQL's end of the fence session
 * (keepalives after 10 s idle, 3 probes 5 s apart, tcp_user_timeout 25 s: src/fence/fence-sql.ts),
 * so the new worker meets a lock held by a host that is gone.
 */
export const HOST_LOST_CUT_MS: [number, number] = [60_000, 90_000];
/**
 * The host is lost while the worker holds the fence if it does within this long (a host lost
 * between two tenures leaves its successor nothing to wait for); then anyway.
 */
export const HOST_LOST_AIM_MS = 15_000;
/** The new worker starts this soon, while the dead host's session still holds the fence. */
export const HOST_LOST_DOWN_MS: [number, number] = [2_000, 10_000];
/** A backlog as after an outage of the webhooks: minutes to hours of the partner's payouts. */
export const FLOOD_PAYOUTS: [number, number] = [5_000, 30_000];
/** A flood's backlog drains for about a minute on two cores; a second one waits for it. */
const FLOOD_BUSY_MS = 60_000;

const specs: Record<ActionKind, KindSpec> = {
  'worker-sigkill': {
    resource: 'worker',
    weight: 3,
    plan: (random, room) => within(between(random, [0, 3_000]), room),
    busyMs: (action) => (action.durationMs ?? 0) + WORKER_RESTART_MS,
  },
  'worker-sigstop': {
    resource: 'worker',
    weight: 2,
    // Half of the stalls outlast the heartbeat timeout: the attempt is retried beside the
    // stalled one, which still holds the fence.
    plan: (random, room) => {
      const long = random() < 0.5;
      const stall = long
        ? between(random, [HEARTBEAT_TIMEOUT_MS + 2_000, HEARTBEAT_TIMEOUT_MS + 15_000])
        : between(random, [2_000, 10_000]);
      return within(stall, room);
    },
    busyMs: (action) => (action.durationMs ?? 0) + 2_000,
  },
  'api-sigkill': {
    resource: 'api',
    weight: 2,
    plan: (random, room) => within(between(random, [0, 3_000]), room),
    busyMs: (action) => (action.durationMs ?? 0) + 10_000,
  },
  'api-sigstop': {
    resource: 'api',
    weight: 1,
    plan: (random, room) => within(between(random, [2_000, 15_000]), room),
    busyMs: (action) => (action.durationMs ?? 0) + 2_000,
  },
  'temporal-restart': { resource: 'temporal', weight: 1, plan: () => ({}), busyMs: () => 20_000 },
  'postgres-restart': { resource: 'postgres', weight: 1, plan: () => ({}), busyMs: () => 15_000 },
  'partner-failure-rate': knob(
    (random) => ({ failureRate: rate(random, MAX_FAILURE_RATE) }),
    'partner-failure-rate',
  ),
  'partner-fail-after-commit': knob(
    (random) => ({ failAfterCommitRate: rate(random, MAX_FAIL_AFTER_COMMIT_RATE) }),
    'partner-fail-after-commit',
  ),
  'partner-latency': knob((random) => {
    if (random() < 1 / 3) return { latencyMs: '0' };
    const low = randomIntBetween(random, 0, 5) * 100;
    const high = randomIntBetween(random, low / 100, MAX_LATENCY_MS / 100) * 100;
    return { latencyMs: low === high ? String(low) : `${low}-${high}` };
  }, 'partner-latency'),
  'partner-list-failures': knob(
    (random) => ({ listFailureRate: rate(random, MAX_LIST_FAILURE_RATE) }),
    'partner-list-failures',
  ),
  'partner-malformed': knob(
    (random) => ({ malformedRate: rate(random, MAX_MALFORMED_RATE, 0.02) }),
    'partner-malformed',
  ),
  'partner-outage': {
    resource: 'partner-outage',
    weight: 1.5,
    plan: (random, room) => within(between(random, [3, 20]) * 1000, room),
    busyMs: (action) => (action.durationMs ?? 0) + 2_000,
  },
  'webhooks-dropped': {
    resource: 'webhooks',
    weight: 1.5,
    plan: (random, room) => {
      const window = within(between(random, [10_000, 60_000]), room);
      return window && { ...window, dropShare: randomIntBetween(random, 5, 10) / 10 };
    },
    busyMs: (action) => (action.durationMs ?? 0) + 1_000,
  },
  'second-worker': {
    resource: 'worker2',
    weight: 1.5,
    plan: (random, room) => within(between(random, [20_000, 90_000]), room),
    busyMs: (action) => (action.durationMs ?? 0) + WORKER_RESTART_MS,
  },
  'sync-terminate': { resource: 'sync', weight: 1, plan: () => ({}), busyMs: () => 10_000 },
  'sync-reset': { resource: 'sync', weight: 1, plan: () => ({}), busyMs: () => 10_000 },
  'stray-sync': {
    resource: 'sync',
    weight: 1,
    plan: (_random, _room, { seed, n }) => ({ workflowId: `expenzy-sync-stray-${seed}-${n}` }),
    busyMs: () => 10_000,
  },
  'worker-host-lost': {
    resource: 'worker',
    weight: 1,
    plan: (random, room) => {
      const cut = within(between(random, HOST_LOST_CUT_MS), room - HOST_LOST_AIM_MS);
      return cut && { ...cut, downMs: between(random, HOST_LOST_DOWN_MS) };
    },
    busyMs: (action) => HOST_LOST_AIM_MS + (action.durationMs ?? 0) + WORKER_RESTART_MS,
  },
  'backlog-flood': {
    resource: 'flood',
    weight: 1,
    plan: (random) => ({ payouts: between(random, FLOOD_PAYOUTS) }),
    busyMs: () => FLOOD_BUSY_MS,
  },
};

/** The resource an action occupies: two actions on one resource never overlap. */
export const resourceOf = (kind: ActionKind): string => specs[kind].resource;

export interface ScheduleOptions {
  seed: number;
  minutes: number;
  /** The kinds drawn from, in this order (every kind by default). */
  kinds?: readonly ActionKind[];
}

/** Validates the options (errors name them) and builds the schedule. */
export function buildSchedule({ seed, minutes, kinds = actionKinds }: ScheduleOptions): SoakSchedule {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
    throw new Error(`seed must be a whole number from 0 to ${MAX_SEED}, got ${seed}`);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_MINUTES)
    throw new Error(`minutes must be a number above 0 and at most ${MAX_MINUTES}, got ${minutes}`);
  const unknown = kinds.filter((kind) => !(kind in specs));
  if (kinds.length === 0 || unknown.length > 0)
    throw new Error(`kinds must name at least one of ${actionKinds.join(', ')}; got ${kinds.join(', ')}`);
  const random = seededRandom(seed);
  const faultPhaseMs = Math.round(minutes * 60_000);
  const busyUntil = new Map<string, number>();
  const actions: SoakAction[] = [];

  for (
    let atMs = FIRST_ACTION_MS;
    atMs <= faultPhaseMs - LAST_START_MARGIN_MS;
    atMs += between(random, GAP_MS)
  ) {
    const roomMs = faultPhaseMs - END_MARGIN_MS - atMs;
    let candidates = kinds.filter((kind) => (busyUntil.get(specs[kind].resource) ?? 0) <= atMs);
    while (candidates.length > 0) {
      const kind = weightedPick(random, candidates);
      const n = actions.length + 1;
      const planned = specs[kind].plan(random, roomMs, { seed, n });
      if (planned === null) {
        candidates = candidates.filter((other) => other !== kind);
        continue;
      }
      const action: SoakAction = { n, kind, atMs, ...planned };
      actions.push(action);
      busyUntil.set(specs[kind].resource, atMs + specs[kind].busyMs(action));
      break;
    }
  }
  return { seed, minutes, faultPhaseMs, actions };
}

function weightedPick(random: Random, kinds: ActionKind[]): ActionKind {
  const total = kinds.reduce((sum, kind) => sum + specs[kind].weight, 0);
  let point = random() * total;
  for (const kind of kinds) {
    point -= specs[kind].weight;
    if (point < 0) return kind;
  }
  return kinds[kinds.length - 1]!;
}

const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(1)} s`;

/** One line for people: what the action does. */
export function describeAction(action: SoakAction): string {
  const duration = seconds(action.durationMs ?? 0);
  switch (action.kind) {
    case 'worker-sigkill':
      return `SIGKILL the worker, start it again after ${duration}`;
    case 'worker-sigstop':
      return `SIGSTOP the worker for ${duration}${
        (action.durationMs ?? 0) > HEARTBEAT_TIMEOUT_MS ? ' (past the heartbeat timeout)' : ''
      }, then SIGCONT`;
    case 'api-sigkill':
      return `SIGKILL the API, start it again after ${duration}`;
    case 'api-sigstop':
      return `SIGSTOP the API for ${duration}, then SIGCONT`;
    case 'temporal-restart':
      return 'restart the Temporal server';
    case 'postgres-restart':
      return 'restart PostgreSQL';
    case 'partner-outage':
      return `partner outage (every call 503) for ${duration}`;
    case 'webhooks-dropped':
      return `drop ${Math.round((action.dropShare ?? 0) * 100)}% of the webhooks for ${duration}`;
    case 'second-worker':
      return `a second worker joins for ${duration}, then leaves`;
    case 'sync-terminate':
      return 'temporal workflow terminate the sync';
    case 'sync-reset':
      return 'temporal workflow reset the sync --type LastWorkflowTask';
    case 'stray-sync':
      return `temporal workflow start a stray expenzySync as ${action.workflowId}`;
    case 'worker-host-lost':
      return (
        `the worker's host vanishes (holding the fence, if it does within ${seconds(HOST_LOST_AIM_MS)}): its loopback ` +
        `connections dropped (no FIN, no RST), the worker SIGKILLed; a new one after ` +
        `${seconds(action.downMs ?? 0)}, the connections cut for ${duration}`
      );
    case 'backlog-flood':
      return `${(action.payouts ?? 0).toLocaleString('en')} payouts at once without webhooks, then one webhook`;
    default:
      return `partner ${Object.entries(action.knobs ?? {})
        .map(([name, value]) => `${name} ${String(value)}`)
        .join(', ')}`;
  }
}

/** The schedule as printed at the start of a run: one line per action. */
export function formatSchedule(schedule: SoakSchedule): string {
  const lines = [
    `soak schedule: seed ${schedule.seed}, ${schedule.minutes} min of faults, ${schedule.actions.length} actions`,
  ];
  for (const action of schedule.actions)
    lines.push(
      `  #${String(action.n).padEnd(4)} +${seconds(action.atMs).padStart(9)}  ${action.kind.padEnd(26)} ${describeAction(action)}`,
    );
  return lines.join('\n');
}
