import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { producePayouts } from '../expenzy/producer.js';
import type { Stack } from '../tools/stack/stack.js';
import { sendProcessingUpdates } from './ceiling.js';
import {
  callFigures,
  completionTimes,
  createThroughSimulator,
  emptyBothSides,
  expenzyCounts,
  expenzyStates,
  latenciesAndReport,
  notifyingIds,
  pgNow,
  seedNotifying,
  simulatorCalls,
  waitConfirmed,
  type SimulatorCalls,
} from './data.js';
import type { CaseName, PipelineName } from './options.js';
import {
  childrenOf,
  cpuSince,
  cpuSnapshot,
  memoryOf,
  resetPeak,
  sampleRss,
  type Components,
} from './proc.js';
import { cdf, cumulative, percentiles, slope, type Percentiles } from './stats.js';
import { temporalCost, terminateQuietly, type TemporalCost } from './temporal-cost.js';

const root = new URL('../', import.meta.url).pathname;

/** The sync under test, started fresh for one measured run. */
interface Target {
  pipeline: Exclude<PipelineName, 'ceiling'>;
  /** Where a webhook goes: the Holvi API, or the baseline's own listener. */
  holviBaseUrl: string;
  /** The process doing the sync: the worker, or the baseline process. */
  pid: number;
  workflowId?: string;
  /** The baseline's pass counter (the workflow's comes from its history). */
  passes?: () => Promise<number>;
  stop(): Promise<void>;
}

export interface RunContext {
  stack: Stack;
  /** Holvi's database as its owner (who may truncate), and Expenzy's. */
  holviOwner: pg.Pool;
  expenzyOwner: pg.Pool;
  client: Client;
  warmup: number;
  seed: number;
  timeoutMs: number;
  /** Calls in flight for the ceiling: the worker's EXPENZY_MAX_PARALLEL_CALLS. */
  parallel: number;
  log: (line: string) => void;
}

/** What one measured run of a case gives, flat so that medians are taken figure by figure. */
export interface RunResult {
  /** The case's id, e.g. drain-10000 or stream-50. */
  case: string;
  pipeline: PipelineName;
  repetition: number;
  figures: Record<string, number | null>;
  cpuSeconds: Record<string, number>;
  temporal?: TemporalCost;
  consistent: boolean;
  failedChecks: string[];
  loadAverage: { before: number[]; after: number[] };
  /** For the chart: the drain's cumulative curves, or the stream's latency distribution and backlog. */
  curves: {
    recorded?: [number, number][];
    confirmed?: [number, number][];
    toRecordedCdf?: [number, number][];
    toProcessingCdf?: [number, number][];
    backlog?: [number, number][];
  };
}

// ---- starting a pipeline ----------------------------------------------------------------

/** The worker and the API, with a workflow id of the case's own. */
async function startPipeline(stack: Stack, workflowId: string): Promise<void> {
  await stack.start('worker', { SYNC_WORKFLOW_ID: workflowId });
  await stack.start('api', { SYNC_WORKFLOW_ID: workflowId });
}

export async function stopPipeline(stack: Stack): Promise<void> {
  await stack.stop('api');
  await stack.stop('worker');
}

async function startTemporalPipeline(ctx: RunContext, label: string): Promise<Target> {
  const workflowId = `bench-${label}-${Date.now()}`;
  await startPipeline(ctx.stack, workflowId);
  const pid = ctx.stack.pid('worker');
  if (pid === null) throw new Error('the worker is not running');
  return {
    pipeline: 'temporal',
    holviBaseUrl: ctx.stack.addresses.apiUrl,
    pid,
    workflowId,
    async stop() {
      await terminateQuietly(ctx.client, workflowId);
      await stopPipeline(ctx.stack);
    },
  };
}

async function startDirectPipeline(ctx: RunContext): Promise<Target> {
  const { addresses } = ctx.stack;
  const child: ChildProcess = spawn('node', ['--import', 'tsx', join(root, 'bench/direct-baseline.ts')], {
    cwd: root,
    env: ctx.stack.environment({
      HOLVI_DATABASE_URL: addresses.holviAppUrl,
      EXPENZY_API_BASE_URL: addresses.expenzyUrl,
      BASELINE_PORT: '0',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(createWriteStream(ctx.stack.logFile('baseline'), { flags: 'a' }));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('the baseline did not start within 60 s')), 60_000);
    child.once('exit', (code) =>
      reject(new Error(`the baseline exited with ${code} (bench/.stack/logs/baseline.log)`)),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return {
    pipeline: 'direct',
    holviBaseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async passes() {
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      return ((await response.json()) as { passes: number }).passes;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function webhook(target: Target): Promise<void> {
  const response = await fetch(`${target.holviBaseUrl}/expenzy/webhook/`);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`webhook answered ${response.status}`);
}

/**
 * Reset, start, warm up: both databases emptied, a fresh simulator (its seeded faults start
 * over), the pipeline started fresh, `warmup` payouts pushed through it, then the data wiped
 * again so the measured run starts from empty tables with warm processes.
 */
async function prepare(ctx: RunContext, spec: CaseSpec, pipeline: Target['pipeline'], label: string) {
  await freshSimulator(ctx, spec);
  const target =
    pipeline === 'temporal' ? await startTemporalPipeline(ctx, label) : await startDirectPipeline(ctx);
  try {
    await createThroughSimulator(ctx.stack.addresses.expenzyUrl, ctx.warmup);
    await webhook(target);
    await waitConfirmed(ctx.holviOwner, ctx.warmup, 120_000);
    await sleep(500); // the pass that confirmed the last one ends
    await emptyBothSides(ctx.holviOwner, ctx.expenzyOwner);
    return target;
  } catch (error) {
    await target.stop();
    throw error;
  }
}

/**
 * Both databases emptied and a fresh simulator: its seeded generator starts over, so the same
 * faults come in the same order; its call counts start at 0.
 */
async function freshSimulator(ctx: RunContext, spec: CaseSpec): Promise<void> {
  await emptyBothSides(ctx.holviOwner, ctx.expenzyOwner);
  await ctx.stack.restart('expenzy', { EXPENZY_FAILURE_RATE: String(spec.failureRate) });
}

// ---- measuring --------------------------------------------------------------------------

/** The postmaster and its children (backends, checkpointer, WAL writer…). */
function postgresProcesses(stack: Stack): number[] {
  const pid = stack.pid('postgres');
  return pid === null ? [] : [pid, ...childrenOf(pid)];
}

/** A component that is one process, when it runs. */
const one = (pid: number | null) => () => (pid === null ? [] : [pid]);

function components(ctx: RunContext, target: Target): Components {
  const { stack } = ctx;
  const parts: Components = {
    [target.pipeline === 'temporal' ? 'worker' : 'baseline']: one(target.pid),
    ...(target.pipeline === 'temporal' ? { api: one(stack.pid('api')) } : {}),
    simulator: one(stack.pid('expenzy')),
    temporalServer: one(stack.pid('temporal')),
    postgres: () => postgresProcesses(stack),
  };
  return parts;
}

interface Measured {
  memory: { startRssMiB: number; peakRssMiB: number; sampledPeakRssMiB: number };
  cpuSeconds: Record<string, number>;
}

interface Meter {
  finish(): Promise<Measured>;
}

/** Waited after a run's last confirmation before its calls and history are read. */
const SETTLE_MS = 1_000;

function startMeter(ctx: RunContext, target: Target): Meter {
  const parts = components(ctx, target);
  const peakReset = resetPeak(target.pid);
  const startRssMiB = memoryOf(target.pid).rssMiB;
  const sampler = sampleRss(target.pid);
  const cpuBefore = cpuSnapshot(parts);
  const selfBefore = process.cpuUsage();
  return {
    async finish() {
      const sampledPeakRssMiB = sampler.stop();
      const memory = memoryOf(target.pid);
      const cpuSeconds = cpuSince(cpuBefore, parts);
      const self = process.cpuUsage(selfBefore);
      cpuSeconds.benchAndProducer = Math.round((self.user + self.system) / 10_000) / 100;
      return {
        memory: {
          startRssMiB,
          peakRssMiB: peakReset ? memory.peakMiB : sampledPeakRssMiB,
          sampledPeakRssMiB,
        },
        cpuSeconds,
      };
    },
  };
}

async function costFigures(
  ctx: RunContext,
  target: Target,
  t0: number,
  payouts: number,
  webhooks: number,
  passesBefore: number,
): Promise<{ cost?: TemporalCost; figures: Record<string, number | null> }> {
  if (!target.workflowId) {
    return { figures: target.passes ? { passes: (await target.passes()) - passesBefore } : {} };
  }
  const cost = await temporalCost(ctx.client, target.workflowId, t0);
  const activities = Object.values(cost.activitiesScheduled).reduce((sum, count) => sum + count, 0);
  return {
    cost,
    figures: {
      historyEventsPerPayout: payouts > 0 ? cost.events / payouts : null,
      signalsPerWebhook: webhooks > 0 ? cost.signals / webhooks : null,
      activitiesPerPayout: payouts > 0 ? activities / payouts : null,
      activityAttemptsPerPayout: payouts > 0 ? cost.activityAttempts / payouts : null,
      timedOutAttempts: cost.timedOutAttempts,
      workflowTasks: cost.workflowTasks,
      historyEvents: cost.events,
      continueAsNew: cost.continueAsNew,
      maxRunHistoryEvents: cost.maxRunEvents,
      maxRunHistoryMiB: cost.maxRunBytes / 2 ** 20,
      historyBytesPerPayout: payouts > 0 ? cost.bytes / payouts : null,
      passes: cost.activitiesScheduled.FetchTransactions ?? 0,
      activityScheduleToStartMs: cost.timing.activityScheduleToStartMs,
      activityRunMs: cost.timing.activityRunMs,
      workflowTaskMs: cost.timing.workflowTaskMs,
      hopBetweenActivitiesMs: cost.timing.hopBetweenActivitiesMs,
      fetchRunMs: cost.timing.activityRunMsByType.FetchTransactions ?? null,
      recordRunMs: cost.timing.activityRunMsByType.RecordPayout ?? null,
      markRunMs: cost.timing.activityRunMsByType.MarkProcessing ?? null,
    },
  };
}

const percentileFigures = (prefix: string, p: Percentiles | null) => ({
  [`${prefix}P50Ms`]: p?.p50 ?? null,
  [`${prefix}P95Ms`]: p?.p95 ?? null,
  [`${prefix}P99Ms`]: p?.p99 ?? null,
  [`${prefix}MaxMs`]: p?.max ?? null,
});

/** Where a measured run starts from: the counters before it, its meter, its time zero (PostgreSQL's clock). */
interface RunStart {
  passes: number;
  calls: SimulatorCalls;
  meter: Meter;
  t0: number;
}

async function startRun(ctx: RunContext, target: Target): Promise<RunStart> {
  const passes = (await target.passes?.()) ?? 0;
  const calls = await simulatorCalls(ctx.stack.addresses.expenzyUrl);
  const meter = startMeter(ctx, target);
  return { passes, calls, meter, t0: await pgNow(ctx.holviOwner) };
}

/**
 * What every measured run reports besides its own figures, once its last pass ended (a list
 * that finds nothing is counted too): partner calls, memory, CPU, Temporal's cost, the report.
 */
async function endRun(
  ctx: RunContext,
  target: Target,
  start: RunStart,
  measured: Measured,
  payouts: number,
  webhooks: number,
) {
  await sleep(SETTLE_MS);
  const calls = callFigures(start.calls, await simulatorCalls(ctx.stack.addresses.expenzyUrl), payouts);
  const { cost, figures: costs } = await costFigures(ctx, target, start.t0, payouts, webhooks, start.passes);
  const check = await latenciesAndReport(ctx.holviOwner, ctx.expenzyOwner);
  return {
    figures: { ...calls, ...measured.memory, ...costs },
    cpuSeconds: measured.cpuSeconds,
    temporal: cost,
    check,
  };
}

/**
 * When the partner first holds a payout in `processing` (its count, polled): the first update
 * as it reaches the partner, not as Holvi records its answer at the end of a chunk.
 */
async function firstUpdateAtPartner(expenzyUrl: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const response = await fetch(`${expenzyUrl}/api/transaction/count`);
    const counts = (await response.json()) as { processing_num_transactions: number };
    if (counts.processing_num_transactions > 0) return performance.now();
    await sleep(100);
  }
  return NaN;
}

/** Drain: N payouts already `notifying`, one webhook, until all are recorded and confirmed. */
async function measureDrain(ctx: RunContext, target: Target, n: number) {
  await seedNotifying(ctx.expenzyOwner, n, ctx.seed);
  const start = await startRun(ctx, target);
  const webhookAt = performance.now();
  const firstUpdate = firstUpdateAtPartner(ctx.stack.addresses.expenzyUrl, ctx.timeoutMs);
  await webhook(target);
  const done = await waitConfirmed(ctx.holviOwner, n, ctx.timeoutMs, n > 20_000 ? 2_000 : 250);
  const firstUpdateSeconds = ((await firstUpdate) - webhookAt) / 1000;
  const measured = await start.meter.finish();
  const drainMs = done.lastConfirmedMs! - start.t0;
  const end = await endRun(ctx, target, start, measured, n, 1);
  const times = await completionTimes(ctx.holviOwner, start.t0);
  return {
    ...end,
    figures: {
      payouts: n,
      drainSeconds: drainMs / 1000,
      allRecordedSeconds: times.recorded[times.recorded.length - 1]! / 1000,
      firstRecordedSeconds: times.recorded[0]! / 1000,
      firstUpdateSeconds,
      payoutsPerSecond: n / (drainMs / 1000),
      ...end.figures,
    },
    curves: { recorded: cumulative(times.recorded), confirmed: cumulative(times.confirmed) },
  };
}

export interface StreamShape {
  /** Seconds between two creations (0: as fast as the producer goes). */
  sleep: number;
  concurrency: number;
  seconds: number;
}

/** Stream: the producer at a fixed rate for a while; latencies, and whether the sync keeps up. */
async function measureStream(ctx: RunContext, target: Target, shape: StreamShape) {
  const { holviOwner, expenzyOwner } = ctx;
  const start = await startRun(ctx, target);
  const t0Local = Date.now();
  const stop = new AbortController();
  const backlog: [number, number][] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = Date.now();
      const counts = await expenzyCounts(expenzyOwner);
      backlog.push([(at - t0Local) / 1000, counts.notifying]);
      await sleep(Math.max(0, 500 - (Date.now() - at)));
    }
  })();
  const timer = setTimeout(() => stop.abort(), shape.seconds * 1000);
  const summary = await producePayouts(
    {
      attempts: 10_000_000,
      concurrency: shape.concurrency,
      sleepBetweenPayouts: shape.sleep,
      expenzyBaseUrl: ctx.stack.addresses.expenzyUrl,
      holviBaseUrl: target.holviBaseUrl,
      webhookDropRate: 0,
      webhookTimeoutMs: 10_000,
    },
    { signal: stop.signal },
  );
  clearTimeout(timer);
  const stoppedAt = Date.now();
  const atStop = await expenzyCounts(expenzyOwner);
  // "Keeps up": one second (the create→processing target) after the last payout, nothing waits.
  await sleep(Math.max(0, stoppedAt + 1_000 - Date.now()));
  const afterOneSecond = await expenzyCounts(expenzyOwner);
  const done = await waitConfirmed(holviOwner, summary.payoutsCreated, ctx.timeoutMs);
  sampling = false;
  await sampler;
  const measured = await start.meter.finish();
  const end = await endRun(ctx, target, start, measured, summary.payoutsCreated, summary.webhooksSent);
  const toRecorded = [...end.check.toRecordedMs].sort((a, b) => a - b);
  const toProcessing = [...end.check.toProcessingMs].sort((a, b) => a - b);
  // The trend after the first tenth (the sync's first pass is still catching up there).
  const steady = backlog.filter(([t]) => t >= shape.seconds * 0.1 && t <= shape.seconds);
  const stopMs = stoppedAt - t0Local;
  const { t0 } = start;
  return {
    ...end,
    figures: {
      payouts: summary.payoutsCreated,
      creationRatePerSecond: summary.creationRate,
      webhooksSent: summary.webhooksSent,
      webhooksFailed: summary.webhooksFailed,
      ...percentileFigures('toRecorded', percentiles(toRecorded)),
      ...percentileFigures('toProcessing', percentiles(toProcessing)),
      backlogAtStop: atStop.notifying,
      backlogAtEnd: afterOneSecond.notifying,
      maxBacklog: Math.max(0, ...backlog.map(([, count]) => count)),
      backlogSlopePerSecond: slope(steady),
      drainOutSeconds: Math.max(0, done.lastConfirmedMs! - (t0 + stopMs)) / 1000,
      // Payouts confirmed per second over the whole run: what the producer asked, if it kept up.
      payoutsPerSecond: summary.payoutsCreated / ((done.lastConfirmedMs! - t0) / 1000),
      ...end.figures,
    },
    curves: { toRecordedCdf: cdf(toRecorded), toProcessingCdf: cdf(toProcessing), backlog },
  };
}

export interface CaseSpec {
  /** drain-<N>, stream-50, stream-max. */
  id: string;
  kind: CaseName;
  title: string;
  /** Payouts waiting (drain only). */
  n: number;
  /** The simulator's failureRate during the case's runs. */
  failureRate: number;
  /** Payouts the ceiling pipeline updates in this case (a drain's N). */
  ceilingN: number;
  stream?: StreamShape;
}

/** One measured run: reset and warm up, measure, stop the pipeline. */
export async function runCase(
  ctx: RunContext,
  spec: CaseSpec,
  pipeline: PipelineName,
  repetition: number,
): Promise<RunResult> {
  if (pipeline === 'ceiling') return runCeiling(ctx, spec, repetition);
  const before = loadavg();
  const target = await prepare(ctx, spec, pipeline, `${spec.id}-${repetition}`);
  try {
    const measured = spec.stream
      ? await measureStream(ctx, target, spec.stream)
      : await measureDrain(ctx, target, spec.n);
    const after = loadavg();
    return {
      case: spec.id,
      pipeline,
      repetition,
      figures: { ...measured.figures, maxUpdateCount: measured.check.maxUpdateCount },
      cpuSeconds: measured.cpuSeconds,
      ...(measured.temporal ? { temporal: measured.temporal } : {}),
      consistent: measured.check.consistent,
      failedChecks: measured.check.failedChecks,
      loadAverage: { before, after },
      curves: measured.curves,
    };
  } finally {
    await target.stop();
  }
}

// ---- the ceiling ------------------------------------------------------------------------

/**
 * The simulator's own update rate: a fresh simulator (same failure rate and seed as the case),
 * warmed up with `warmup` updates, then `ceilingN` payouts seeded as the drain seeds them and
 * set to `processing` by ceiling.ts with `parallel` calls in flight. No Holvi process runs.
 */
async function runCeiling(ctx: RunContext, spec: CaseSpec, repetition: number): Promise<RunResult> {
  const { stack, expenzyOwner } = ctx;
  const { expenzyUrl } = stack.addresses;
  const before = loadavg();
  await freshSimulator(ctx, spec);
  await createThroughSimulator(expenzyUrl, ctx.warmup);
  await sendProcessingUpdates(expenzyUrl, await notifyingIds(expenzyOwner), { parallel: ctx.parallel });
  await emptyBothSides(ctx.holviOwner, expenzyOwner);

  const n = spec.ceilingN;
  await seedNotifying(expenzyOwner, n, ctx.seed);
  const ids = await notifyingIds(expenzyOwner);
  const parts: Components = {
    simulator: one(stack.pid('expenzy')),
    postgres: () => postgresProcesses(stack),
  };
  const callsBefore = await simulatorCalls(expenzyUrl);
  const cpuBefore = cpuSnapshot(parts);
  const selfBefore = process.cpuUsage();
  const outcome = await sendProcessingUpdates(expenzyUrl, ids, { parallel: ctx.parallel });
  const cpuSeconds = cpuSince(cpuBefore, parts);
  const self = process.cpuUsage(selfBefore);
  cpuSeconds.benchAndProducer = Math.round((self.user + self.system) / 10_000) / 100;
  const calls = callFigures(callsBefore, await simulatorCalls(expenzyUrl), n);
  const states = await expenzyStates(expenzyOwner);
  const failedChecks = [
    ...(states.notifying > 0 ? [`${states.notifying} payouts still notifying`] : []),
    ...(states.processing !== n ? [`${states.processing} of ${n} payouts processing`] : []),
    ...(states.maxUpdateCount > 1 ? [`a payout updated ${states.maxUpdateCount} times`] : []),
    ...(outcome.notApplied > 0 ? [`${outcome.notApplied} updates answered [] (not applied)`] : []),
  ];
  return {
    case: spec.id,
    pipeline: 'ceiling',
    repetition,
    figures: {
      payouts: n,
      drainSeconds: outcome.elapsedMs / 1000,
      payoutsPerSecond: n / (outcome.elapsedMs / 1000),
      ...calls,
      parallelCalls: ctx.parallel,
      maxUpdateCount: states.maxUpdateCount,
    },
    cpuSeconds,
    consistent: failedChecks.length === 0,
    failedChecks,
    loadAverage: { before, after: loadavg() },
    curves: { confirmed: cumulative(outcome.appliedAtMs) },
  };
}
