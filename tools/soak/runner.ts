import { setTimeout as sleep } from 'node:timers/promises';
import { insertNotifying } from '../../expenzy/bulk.js';
import { randomSeed, seededRandom } from '../../expenzy/random.js';
import { reportOnce } from '../chaos/converge.js';
import { connectionsOf, hostLossUnavailable, LoopbackCuts } from '../chaos/host-loss.js';
import { accountForMalformed } from '../chaos/quarantine.js';
import type { ChaosRunner } from '../chaos/runner.js';
import { RECONCILE_INTERVAL_SECONDS } from '../chaos/sizes.js';
import type { WorkerService } from '../stack/stack.js';
import type { Report } from '../report/index.js';
import { Invariants, type Phase, type Violation } from './invariants.js';
import { SteadyProducer, type ProducerTotals } from './producer.js';
import { HOST_LOST_AIM_MS, resourceOf, type SoakAction, type SoakSchedule } from './schedule.js';

/**
 * Applies a soak schedule to the chaos stack (tools/chaos: the same driver, clients and fault
 * injectors) under a steady producer, with the invariants checked throughout; then stops the
 * faults, lets the system drain quietly and checks the end state.
 */

export interface SoakOptions {
  chaos: ChaosRunner;
  schedule: SoakSchedule;
  /** Payouts created per second during the fault phase. */
  ratePerSecond?: number;
  /** Webhooks in flight at once. */
  webhookConcurrency?: number;
  /** How often the continuous invariants are checked. */
  checkEveryMs?: number;
  /** How long the quiet drain may take; by default 5 min plus 10 s per minute of faults. */
  drainTimeoutMs?: number;
  /** A drained system is watched this long more before the end checks. */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface ActionOutcome {
  action: SoakAction;
  /** done: applied; skipped: nothing to apply it to (e.g. the worker was restarting); failed: the attempt failed. */
  result: 'done' | 'skipped' | 'failed' | 'not run';
  /** Milliseconds after the fault phase began. */
  startedMs?: number;
  endedMs?: number;
  /** Why it was skipped or failed; for some done actions, what they met (a lost host's connections). */
  detail?: string;
}

export interface SoakResult {
  seed: number;
  minutes: number;
  schedule: SoakSchedule;
  outcomes: ActionOutcome[];
  production: ProducerTotals | null;
  /** Payouts the backlog floods wrote at the partner (not the producer's). */
  flooded: number;
  /** From the last report: payouts at the partner, recorded by Holvi, malformed ones. */
  payouts: { atPartner: number; recorded: number; malformed: number } | null;
  drain: { drained: boolean; seconds: number; why?: string };
  invariantRounds: { checked: number; unreadable: number };
  violations: Violation[];
  totalSeconds: number;
  /** The runner itself failed (not an invariant): the run says nothing. */
  error?: string;
}

/** A lost host's sessions still open at PostgreSQL, and whether one of them holds the fence's lock. */
interface HostSessions {
  open: number;
  fence: boolean;
}

/** An action that found nothing to act on (a process not running at that moment). */
class Skipped extends Error {}

/** SoakOptions' defaults (but the drain's timeout, which depends on the length). */
const defaults = { ratePerSecond: 5, webhookConcurrency: 10, checkEveryMs: 5_000, settleMs: 5_000 };
/** A service that fails to start (Temporal or PostgreSQL restarting meanwhile) is tried again. */
const startTries = { most: 5, pauseMs: 2_000 };

export const defaultDrainTimeoutMs = (minutes: number) => 5 * 60_000 + minutes * 10_000;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { chaos, schedule } = options;
  const log = options.log ?? (() => {});
  const { clients } = chaos;
  const began = performance.now();
  const outcomes: ActionOutcome[] = schedule.actions.map((action) => ({ action, result: 'not run' }));
  let production: ProducerTotals | null = null;
  let lastReport: Report | null = null;
  let drain: SoakResult['drain'] = { drained: false, seconds: 0 };
  let error: string | undefined;

  log('reset: an empty, quiet stack');
  await chaos.reset();
  chaos.faults.begin();
  const started = performance.now();
  const clock = () => Math.round(performance.now() - started);
  const invariants = new Invariants(clients, clock);
  let phase: Phase = 'faults';
  const stopWatching = invariants.watch(options.checkEveryMs ?? defaults.checkEveryMs, () => phase);
  const producer = new SteadyProducer({
    expenzyUrl: clients.addresses.expenzyUrl,
    apiUrl: clients.addresses.apiUrl,
    ratePerSecond: options.ratePerSecond ?? defaults.ratePerSecond,
    concurrency: options.webhookConcurrency ?? defaults.webhookConcurrency,
    log,
  });
  const actions = new ActionRunner(
    chaos,
    producer,
    outcomes,
    clock,
    schedule.faultPhaseMs,
    `expenzy-soak-${process.pid}-${schedule.seed}`,
    log,
  );

  try {
    for (const action of schedule.actions) {
      await sleep(Math.max(0, action.atMs - clock()));
      actions.launch(action);
    }
    await sleep(Math.max(0, schedule.faultPhaseMs - clock()));
    log(`fault phase over at ${(clock() / 1000).toFixed(1)} s: stopping the producer`);
    production = await producer.stop();
    await actions.finished();
    phase = 'drain';
    log('quiet: partner knobs back, processes continued and up, strays ended, one webhook');
    await actions.quiet();
    const drainStarted = performance.now();
    const drained = await waitForDrain(
      chaos,
      production.created + actions.flooded,
      options.drainTimeoutMs ?? defaultDrainTimeoutMs(schedule.minutes),
    );
    drain = {
      drained: drained.drained,
      seconds: Math.round((performance.now() - drainStarted) / 100) / 10,
      ...(drained.why ? { why: drained.why } : {}),
    };
    log(`${drained.drained ? 'drained' : 'NOT drained'} in ${drain.seconds} s`);
    await sleep(options.settleMs ?? defaults.settleMs);
    lastReport = await reportOnce(clients, true).catch(() => drained.report);
    phase = 'end';
    await stopWatching();
    await invariants.checkEnd({ ...drain, report: lastReport });
  } catch (caught) {
    error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
    log(`soak runner failed: ${error}`);
  } finally {
    await stopWatching();
    production ??= await producer.stop().catch(() => null);
    await actions.cleanUp();
  }

  return {
    seed: schedule.seed,
    minutes: schedule.minutes,
    schedule,
    outcomes,
    production,
    flooded: actions.flooded,
    payouts: lastReport
      ? {
          atPartner: lastReport.expenzy.total,
          recorded: lastReport.holviRows,
          malformed: lastReport.expenzy.malformed,
        }
      : null,
    drain,
    invariantRounds: { ...invariants.rounds },
    violations: invariants.list(),
    totalSeconds: Math.round((performance.now() - began) / 1000),
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Polls until the report is consistent (repeated updates aside: the invariants name those) for
 * at least every payout made, and every malformed payout is quarantined and settled.
 */
async function waitForDrain(
  chaos: ChaosRunner,
  expectedPayouts: number,
  timeoutMs: number,
): Promise<{ drained: boolean; report: Report | null; why?: string }> {
  const deadline = performance.now() + timeoutMs;
  let report: Report | null = null;
  let why = 'no report could be read';
  for (;;) {
    try {
      report = await reportOnce(chaos.clients, true);
      if (!report.consistent || report.expenzy.total < expectedPayouts) {
        const failed = report.checks.filter((check) => check.status === 'FAIL');
        why = `report: ${failed.map((check) => `${check.label} ${check.figure}`).join('; ') || `${report.expenzy.total} of ${expectedPayouts} payouts at the partner`}`;
      } else {
        const account = await accountForMalformed(chaos.clients);
        const open = account.notQuarantined.length + account.unsettled.length;
        if (open === 0) return { drained: true, report };
        why = `${account.notQuarantined.length} malformed not quarantined, ${account.unsettled.length} not settled`;
      }
    } catch (caught) {
      why = (caught as Error).message;
    }
    if (performance.now() > deadline)
      return { drained: false, report, why: `not drained in ${timeoutMs / 1000} s: ${why}` };
    await sleep(1_000);
  }
}

/**
 * Runs each action at its time. Two actions on one resource (the schedule's) run one after the
 * other; actions on different resources overlap, as faults do.
 */
class ActionRunner {
  private readonly locks = new Map<string, Promise<void>>();
  private readonly launched: Promise<void>[] = [];
  private readonly stalled = new Set<WorkerService | 'api'>();
  private readonly strays: (() => Promise<void>)[] = [];
  private secondWorker: (() => Promise<void>) | null = null;
  private readonly cuts: LoopbackCuts;
  /** Payouts the floods wrote. */
  flooded = 0;

  constructor(
    private readonly chaos: ChaosRunner,
    private readonly producer: SteadyProducer,
    private readonly outcomes: ActionOutcome[],
    private readonly clock: () => number,
    private readonly faultPhaseMs: number,
    /** The iptables comment on this run's rules, unique to the run. */
    ruleTag: string,
    private readonly log: (line: string) => void,
  ) {
    this.cuts = new LoopbackCuts(ruleTag);
  }

  launch(action: SoakAction): void {
    const resource = resourceOf(action.kind);
    const run = (this.locks.get(resource) ?? Promise.resolve()).then(() => this.apply(action));
    this.locks.set(resource, run);
    this.launched.push(run);
  }

  /** Every action launched has ended. */
  async finished(): Promise<void> {
    await Promise.all(this.launched);
  }

  private async apply(action: SoakAction): Promise<void> {
    const outcome = this.outcomes[action.n - 1]!;
    if (this.clock() >= this.faultPhaseMs) {
      outcome.result = 'skipped';
      outcome.detail = 'the fault phase ended before its resource was free';
      return;
    }
    outcome.startedMs = this.clock();
    const late = outcome.startedMs - action.atMs;
    this.log(`#${action.n} ${action.kind}${late > 1_000 ? ` (${(late / 1000).toFixed(1)} s late)` : ''}`);
    try {
      const detail = await this.perform(action);
      outcome.result = 'done';
      if (detail) {
        outcome.detail = detail;
        this.log(`#${action.n} ${action.kind}: ${detail}`);
      }
    } catch (caught) {
      outcome.result = caught instanceof Skipped ? 'skipped' : 'failed';
      outcome.detail = ((caught as Error).message ?? String(caught)).split('\n')[0];
      this.log(`#${action.n} ${action.kind} ${outcome.result}: ${outcome.detail}`);
    }
    outcome.endedMs = this.clock();
  }

  /** Applies the action; resolves with what it met, for those that say. */
  private async perform(action: SoakAction): Promise<string | void> {
    const { faults } = this.chaos;
    // An action that started late (its resource was busy) still ends with the fault phase.
    const duration = Math.min(action.durationMs ?? 0, Math.max(0, this.faultPhaseMs - this.clock()));
    switch (action.kind) {
      case 'worker-sigkill':
        return this.killAndStart('worker', duration);
      case 'api-sigkill':
        return this.killAndStart('api', duration);
      case 'worker-sigstop':
        return this.stall('worker', duration);
      case 'api-sigstop':
        return this.stall('api', duration);
      case 'temporal-restart':
        return faults.restart('temporal');
      case 'postgres-restart':
        return faults.restart('postgres');
      case 'partner-outage':
        await faults.outage(duration / 1000);
        await sleep(duration);
        return;
      case 'webhooks-dropped':
        this.producer.dropWebhooks(action.dropShare ?? 1);
        await sleep(duration);
        this.producer.dropWebhooks(0);
        return;
      case 'second-worker': {
        await this.startService('worker2');
        this.secondWorker = () => this.chaos.stack.stop('worker2');
        await sleep(duration);
        this.secondWorker = null;
        await this.chaos.stack.stop('worker2');
        return;
      }
      case 'sync-terminate':
        return faults.terminateSync(`soak action #${action.n}`);
      case 'sync-reset':
        return faults.resetSync(`soak action #${action.n}`);
      case 'stray-sync':
        this.strays.push(await faults.startStraySync(action.workflowId!, RECONCILE_INTERVAL_SECONDS * 1000));
        return;
      case 'worker-host-lost':
        return this.loseHost(duration, Math.min(action.downMs ?? 0, duration));
      case 'backlog-flood':
        return this.flood(action.payouts ?? 0);
      default:
        return faults.setKnobs(action.knobs ?? {});
    }
  }

  private running(service: WorkerService | 'api'): void {
    if (this.chaos.stack.pid(service) === null) throw new Skipped(`${service} is not running`);
  }

  private async killAndStart(service: WorkerService | 'api', downMs: number): Promise<void> {
    this.running(service);
    try {
      this.chaos.stack.killNow(service);
    } catch (caught) {
      throw new Skipped((caught as Error).message); // it ended between the check and the kill
    }
    this.stalled.delete(service);
    await sleep(downMs);
    await this.startService(service);
  }

  /** `start`, again when it fails (a Temporal or PostgreSQL restart meanwhile). */
  private async tried(what: string, start: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await start();
      } catch (caught) {
        if (attempt >= startTries.most) throw caught;
        this.log(`${what} did not start (attempt ${attempt}): trying again`);
        await sleep(startTries.pauseMs);
      }
    }
  }

  private startService = (service: WorkerService | 'api') =>
    this.tried(service, () => this.chaos.stack.start(service));

  private async stall(service: WorkerService | 'api', stallMs: number): Promise<void> {
    this.running(service);
    try {
      this.chaos.stack.pause(service);
    } catch (caught) {
      throw new Skipped((caught as Error).message);
    }
    this.stalled.add(service);
    await sleep(stallMs);
    this.continue(service);
  }

  /**
   * The worker's host vanishes, while it holds the fence if that is seen soon: its process group
   * is stopped (it opens no connection meanwhile), every loopback connection it has is cut both
   * ways, then it is SIGKILLed; its kernel's FIN and RST are dropped, so PostgreSQL keeps its
   * sessions, the fence's lock among them, until the keepalives the fence asked for end it. A
   * new worker starts after `downMs` and must wait for that. The rules are deleted after
   * `cutMs` (by the end of the fault phase), or at once when something fails.
   */
  private async loseHost(cutMs: number, downMs: number): Promise<string> {
    const unavailable = await hostLossUnavailable();
    if (unavailable) throw new Skipped(unavailable);
    this.running('worker');
    const leader = this.chaos.stack.pid('worker')!;
    const aimed = await this.whileHoldingFence(leader);
    try {
      this.chaos.stack.pause('worker');
    } catch (caught) {
      throw new Skipped((caught as Error).message);
    }
    const began = this.clock();
    let rules: string[][] = [];
    let killed = false;
    try {
      const { loopback, other } = await connectionsOf(leader);
      rules = await this.cuts.cut(loopback);
      this.chaos.stack.killNow('worker');
      killed = true;
      this.log(
        `worker host lost: ${loopback.length} loopback connections cut` +
          (other ? ` (${other} others left alone)` : ''),
      );
      const sessions = this.watchSessions(
        loopback.map((connection) => connection.local.port),
        began,
      );
      try {
        await sleep(downMs);
        await this.startService('worker');
        const end = Math.min(began + cutMs, this.faultPhaseMs);
        await sleep(Math.max(0, end - this.clock()));
      } finally {
        await sessions.stop();
      }
      return (
        `${aimed}; ${loopback.length} connections cut for ${((this.clock() - began) / 1000).toFixed(1)} s; ` +
        sessions.describe()
      );
    } catch (caught) {
      if (!killed) this.continueStopped('worker');
      throw caught;
    } finally {
      await this.cuts.remove(rules);
    }
  }

  /**
   * Waits, at most HOST_LOST_AIM_MS, until the worker's own session holds the fence. Says how
   * it went.
   */
  private async whileHoldingFence(leader: number): Promise<string> {
    const began = this.clock();
    while (this.clock() - began < HOST_LOST_AIM_MS) {
      const holds = await connectionsOf(leader)
        .then(({ loopback }) => this.sessionsFrom(loopback.map((connection) => connection.local.port)))
        .then(({ fence }) => fence)
        .catch(() => false);
      const waited = ((this.clock() - began) / 1000).toFixed(1);
      if (holds) return `struck while it held the fence (seen after ${waited} s)`;
      await sleep(50);
    }
    return `struck without the fence (not seen held in ${HOST_LOST_AIM_MS / 1000} s)`;
  }

  /**
   * Follows a lost host's sessions at PostgreSQL, once a second, until stopped: how many there
   * were, and when the one holding the fence and the last one ended (PostgreSQL's keepalives, or
   * a restart). `describe` says it in a line.
   */
  private watchSessions(ports: number[], began: number) {
    const state: {
      first?: HostSessions;
      last?: HostSessions;
      fenceEndedMs?: number;
      allEndedMs?: number;
    } = {};
    const stopping = new AbortController();
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        const now = await this.sessionsFrom(ports).catch(() => null);
        if (now) {
          state.first ??= now;
          state.last = now;
          if (state.first.fence && !now.fence) state.fenceEndedMs ??= this.clock() - began;
          if (now.open === 0) state.allEndedMs ??= this.clock() - began;
        }
        await sleep(1_000, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    })();
    const after = (ms: number | undefined) =>
      ms === undefined ? 'not ended' : `ended after ${(ms / 1000).toFixed(1)} s`;
    return {
      stop: async () => {
        stopping.abort();
        await loop;
      },
      describe: (): string => {
        const { first, last, fenceEndedMs, allEndedMs } = state;
        if (!first || !last) return 'its PostgreSQL sessions could not be read';
        const fence = first.fence ? `the fence's ${after(fenceEndedMs)}` : 'none held the fence';
        const rest =
          allEndedMs === undefined ? `${last.open} still open at the end` : `the last ${after(allEndedMs)}`;
        return `${first.open} PostgreSQL sessions of its own at the cut (${fence}); ${rest}`;
      },
    };
  }

  /** Holvi's PostgreSQL sessions whose client port is one of `ports` (a lost host's), and whether one holds the fence's lock. */
  private async sessionsFrom(ports: number[]): Promise<HostSessions> {
    const { rows } = await this.chaos.clients.ownerPool.query<HostSessions>(
      `SELECT count(*)::int AS open,
              coalesce(bool_or(EXISTS (
                SELECT 1 FROM pg_locks l
                 WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
                   AND l.classid = 'holvi_sync_fence'::regclass::oid)), false) AS fence
         FROM pg_stat_activity a
        WHERE a.client_addr = '127.0.0.1' AND a.client_port = ANY($1::int[])`,
      [ports],
    );
    return rows[0]!;
  }

  /**
   * A backlog as after an outage: `payouts` written at the partner at once without webhooks,
   * then one webhook (the API may be down: the reconciliation pass finds them then).
   */
  private async flood(payouts: number): Promise<string> {
    const { clients } = this.chaos;
    const began = performance.now();
    await insertNotifying(clients.expenzyPool, payouts, seededRandom(randomSeed()));
    this.flooded += payouts;
    const written = `${payouts} payouts written in ${((performance.now() - began) / 1000).toFixed(1)} s`;
    const webhook = await fetch(`${clients.addresses.apiUrl}/expenzy/webhook/`, {
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        return `webhook ${response.status}`;
      })
      .catch((caught: Error) => `webhook failed: ${caught.message}`);
    return `${written}; ${webhook}`;
  }

  /** SIGCONT to a process this runner stopped and then did not kill. */
  private continueStopped(service: WorkerService): void {
    try {
      this.chaos.stack.resume(service);
    } catch {
      // ended meanwhile
    }
  }

  /** SIGCONT, if the process is still there (one killed meanwhile has nothing to continue). */
  private continue(service: WorkerService | 'api'): void {
    if (!this.stalled.delete(service)) return;
    try {
      this.chaos.stack.resume(service);
    } catch {
      // not running any more
    }
  }

  /**
   * The end of the faults: the partner's knobs back to the start values, no outage, stalled
   * processes continued, the second worker gone, stray syncs ended, every service up, then one
   * webhook (a terminated sync starts again with it, as with the partner's next webhook).
   */
  async quiet(): Promise<void> {
    const { faults, stack, clients } = this.chaos;
    await faults.restoreKnobs();
    await this.cleanUp();
    await this.tried('the stack', async () => {
      if (!(await stack.healthy())) await stack.up();
    });
    await fetch(`${clients.addresses.apiUrl}/expenzy/webhook/`, { signal: AbortSignal.timeout(10_000) })
      .then((response) => response.text())
      .catch((caught: Error) => this.log(`the drain's webhook failed: ${caught.message}`));
  }

  /** Undoes what could outlive the run: stalled processes, the second worker, stray syncs, loopback cuts. */
  async cleanUp(): Promise<void> {
    await this.cuts.removeAll();
    for (const service of [...this.stalled]) this.continue(service);
    const second = this.secondWorker;
    this.secondWorker = null;
    await second?.().catch(() => undefined);
    for (const end of this.strays.splice(0)) await end().catch(() => undefined);
  }
}
