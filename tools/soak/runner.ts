import { setTimeout as sleep } from 'node:timers/promises';
import { reportOnce } from '../chaos/converge.js';
import { accountForMalformed } from '../chaos/quarantine.js';
import type { ChaosRunner } from '../chaos/runner.js';
import { RECONCILE_INTERVAL_SECONDS } from '../chaos/sizes.js';
import type { WorkerService } from '../stack/stack.js';
import type { Report } from '../report/index.js';
import { Invariants, type Phase, type Violation } from './invariants.js';
import { SteadyProducer, type ProducerTotals } from './producer.js';
import { resourceOf, type SoakAction, type SoakSchedule } from './schedule.js';

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
  detail?: string;
}

export interface SoakResult {
  seed: number;
  minutes: number;
  schedule: SoakSchedule;
  outcomes: ActionOutcome[];
  production: ProducerTotals | null;
  /** From the last report: payouts at the partner, recorded by Holvi, malformed ones. */
  payouts: { atPartner: number; recorded: number; malformed: number } | null;
  drain: { drained: boolean; seconds: number; why?: string };
  invariantRounds: { checked: number; unreadable: number };
  violations: Violation[];
  totalSeconds: number;
  /** The runner itself failed (not an invariant): the run says nothing. */
  error?: string;
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
  const actions = new ActionRunner(chaos, producer, outcomes, clock, schedule.faultPhaseMs, log);

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
      production.created,
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

  constructor(
    private readonly chaos: ChaosRunner,
    private readonly producer: SteadyProducer,
    private readonly outcomes: ActionOutcome[],
    private readonly clock: () => number,
    private readonly faultPhaseMs: number,
    private readonly log: (line: string) => void,
  ) {}

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
      await this.perform(action);
      outcome.result = 'done';
    } catch (caught) {
      outcome.result = caught instanceof Skipped ? 'skipped' : 'failed';
      outcome.detail = ((caught as Error).message ?? String(caught)).split('\n')[0];
      this.log(`#${action.n} ${action.kind} ${outcome.result}: ${outcome.detail}`);
    }
    outcome.endedMs = this.clock();
  }

  private async perform(action: SoakAction): Promise<void> {
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

  /** Undoes what could outlive the run: stalled processes, the second worker, stray syncs. */
  async cleanUp(): Promise<void> {
    for (const service of [...this.stalled]) this.continue(service);
    const second = this.secondWorker;
    this.secondWorker = null;
    await second?.().catch(() => undefined);
    for (const end of this.strays.splice(0)) await end().catch(() => undefined);
  }
}
