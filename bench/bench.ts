import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { Stack } from '../tools/stack/stack.js';
import { runCase, stopPipeline, type CaseSpec, type RunContext, type RunResult } from './cases.js';
import { chartFor, formatMarkdown, thousands } from './figures.js';
import { chartSvg, renderPng } from './chart.js';
import type { BenchOptions, PipelineName } from './options.js';
import { machine } from './proc.js';
import type { BenchResult, CaseResult } from './result.js';
import { maxFigures, medianFigures, minFigures, ratio } from './stats.js';
import { OUTAGE_DRAIN, evaluateTargets } from './targets.js';
import { terminateLeftovers } from './temporal-cost.js';

export function caseSpecs(options: BenchOptions): CaseSpec[] {
  const specs: CaseSpec[] = [];
  for (const kind of options.cases) {
    if (kind === 'drain') {
      for (const n of options.sizes) {
        specs.push({
          id: `drain-${n}`,
          kind,
          title: `drain ${thousands(n)}`,
          n,
          failureRate: options.drainFailureRate,
          ceilingN: n,
        });
      }
    } else {
      const sleep = kind === 'stream-50' ? 0.02 : 0;
      specs.push({
        id: kind,
        kind,
        title: kind === 'stream-50' ? 'stream 50/s' : 'stream max',
        n: 0,
        failureRate: options.failureRate,
        ceilingN: options.ceilingN,
        stream: { sleep, concurrency: 100, seconds: options.streamSeconds },
      });
    }
  }
  return specs;
}

export function summarise(spec: CaseSpec, runs: RunResult[], pipelines: readonly PipelineName[]): CaseResult {
  const median: CaseResult['median'] = {};
  const min: CaseResult['min'] = {};
  const max: CaseResult['max'] = {};
  const cpuSeconds: CaseResult['cpuSeconds'] = {};
  for (const pipeline of pipelines) {
    const mine = runs.filter((run) => run.pipeline === pipeline);
    if (mine.length === 0) continue;
    median[pipeline] = medianFigures(mine.map((run) => run.figures));
    min[pipeline] = minFigures(mine.map((run) => run.figures));
    max[pipeline] = maxFigures(mine.map((run) => run.figures));
    cpuSeconds[pipeline] = medianFigures(mine.map((run) => run.cpuSeconds));
  }
  const ratios: Record<string, number | null> = {};
  for (const name of Object.keys(median.temporal ?? {})) {
    ratios[name] = ratio(median.temporal?.[name], median.direct?.[name]);
  }
  const ofCeiling: CaseResult['ofCeiling'] = {};
  for (const pipeline of Object.keys(median) as PipelineName[]) {
    ofCeiling[pipeline] = ratio(median[pipeline]?.payoutsPerSecond, median.ceiling?.payoutsPerSecond);
  }
  return {
    id: spec.id,
    kind: spec.kind,
    title: spec.title,
    spec,
    median,
    min,
    max,
    cpuSeconds,
    ratios,
    ofCeiling,
    consistent: runs.every((run) => run.consistent),
    runs,
  };
}

export interface BenchOutput {
  result: BenchResult;
  jsonPath: string;
  pngPath: string;
  /** The markdown tables (for bench/README.md). */
  mdPath: string;
}

/**
 * The whole benchmark: its own stack up, every case × repetition × pipeline (pipelines side by
 * side within a repetition, so drift in the machine's load hits both), medians, targets, files.
 */
export async function runBench(
  options: BenchOptions,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BenchOutput> {
  const startedAt = new Date();
  const startMachine = machine();
  const serviceEnv: Record<string, string> = {
    EXPENZY_SEED: String(options.seed),
    EXPENZY_FAILURE_RATE: String(options.failureRate),
    LOG_LEVEL: process.env.LOG_LEVEL || 'warn',
    EXPENZY_ADMIN_ENABLED: 'true',
    ...(options.taskQueue ? { TEMPORAL_TASK_QUEUE: options.taskQueue } : {}),
  };
  const config = loadConfig({ ...process.env, ...serviceEnv });
  const stack = await Stack.create({
    dir: options.stackDir,
    env: serviceEnv,
    ...(options.ports ? { ports: options.ports } : {}),
    ...(options.databases ? { databases: options.databases } : {}),
    ...(options.temporalAddress ? { temporalAddress: options.temporalAddress } : {}),
  });
  log(`bench: starting the stack in ${options.stackDir}`);
  // PostgreSQL, Temporal, migrations and the simulator; each pipeline case starts its worker and API.
  await stack.up(['postgres', 'temporal', 'migrate', 'expenzy']);
  await stopPipeline(stack); // a worker or API left over by an interrupted run
  const pool = (connectionString: string) => {
    const opened = new pg.Pool({ connectionString, max: 3 });
    // An idle client whose server went away (a restart, the end of the run) is dropped quietly.
    opened.on('error', () => undefined);
    return opened;
  };
  const holviOwner = pool(stack.addresses.holviOwnerUrl);
  const expenzyOwner = pool(stack.addresses.expenzyDbUrl);
  // A history page of a large drain exceeds gRPC's default 4 MB message limit.
  const connection = await Connection.connect({
    address: stack.addresses.temporalAddress,
    channelArgs: { 'grpc.max_receive_message_length': 512 * 2 ** 20 },
  });
  const client = new Client({ connection });
  const left = await terminateLeftovers(client, config.TEMPORAL_TASK_QUEUE);
  if (left > 0)
    log(`bench: terminated ${left} sync workflow(s) left running on ${config.TEMPORAL_TASK_QUEUE}`);
  const ctx: RunContext = {
    stack,
    holviOwner,
    expenzyOwner,
    client,
    warmup: options.warmup,
    seed: options.seed,
    timeoutMs: options.timeoutSeconds * 1000,
    parallel: config.EXPENZY_MAX_PARALLEL_CALLS,
    log,
  };
  const cases: CaseResult[] = [];
  const failures: BenchResult['failures'] = [];
  mkdirSync(options.outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const base = join(options.outDir, `${stamp}-${options.label}`);
  // Progress so far, for a long run that is interrupted (removed at the end).
  const partialPath = `${base}.json.tmp`;
  try {
    for (const spec of caseSpecs(options)) {
      const runs: RunResult[] = [];
      const repeat = repeatsOf(spec, options.repeat);
      for (let repetition = 1; repetition <= repeat; repetition++) {
        for (const pipeline of options.pipelines) {
          const name = `${spec.id} ${pipeline} ${repetition}/${repeat}`;
          log(`bench: ${name} …`);
          try {
            const run = await runCase(ctx, spec, pipeline, repetition);
            log(`bench: ${name}: ${headline(run)}`);
            runs.push(run);
          } catch (error) {
            // One failed run (a timeout, a crashed service) does not lose the others.
            log(`bench: ${name} FAILED: ${(error as Error).message}`);
            failures.push({ case: spec.id, pipeline, repetition, error: (error as Error).message });
          }
          writeFileSync(partialPath, JSON.stringify({ options, cases, runs, failures }));
        }
      }
      cases.push(summarise(spec, runs, options.pipelines));
    }
  } finally {
    await connection.close();
    // Pools first: PostgreSQL stopping under an idle client would raise an unhandled 'error'.
    await Promise.allSettled([holviOwner.end(), expenzyOwner.end()]);
    if (!options.keepStack) await stack.down();
  }

  const recorded: BenchResult['options'] = { ...options };
  delete (recorded as Partial<BenchOptions>).outDir;
  delete (recorded as Partial<BenchOptions>).stackDir;
  delete (recorded as Partial<BenchOptions>).databases;
  const result: BenchResult = {
    tool: 'expenzy-sync bench',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: startMachine,
    loadAverageAtEnd: machine().loadAverage,
    git: gitState(),
    options: recorded,
    settings: {
      fetchBatchSize: config.FETCH_BATCH_SIZE,
      maxParallelCalls: config.EXPENZY_MAX_PARALLEL_CALLS,
      dbPoolSize: config.HOLVI_DB_POOL_SIZE,
      reconcileIntervalMs: config.RECONCILE_INTERVAL,
      signalMinIntervalMs: config.SIGNAL_MIN_INTERVAL,
      failureRate: options.failureRate,
      drainFailureRate: options.drainFailureRate,
      ceilingParallelCalls: config.EXPENZY_MAX_PARALLEL_CALLS,
      seed: options.seed,
    },
    cases,
    failures,
    targets: [],
  };
  result.targets = evaluateTargets(result);

  const jsonPath = `${base}.json`;
  const pngPath = `${base}.png`;
  const mdPath = `${base}.md`;
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 1)}\n`);
  const chart = chartFor(result);
  writeFileSync(pngPath, await renderPng(chartSvg(chart.heading, chart.panels)));
  writeFileSync(mdPath, `${formatMarkdown(result)}\n`);
  rmSync(partialPath, { force: true });
  return { result, jsonPath, pngPath, mdPath };
}

function gitState(): BenchResult['git'] {
  try {
    const cwd = new URL('../', import.meta.url).pathname;
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src', 'expenzy'], {
      cwd,
      encoding: 'utf8',
    });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return null;
  }
}

function headline(run: RunResult): string {
  const f = run.figures;
  const fixed = (value: number | null | undefined, digits = 1) =>
    value === null || value === undefined ? '-' : value.toFixed(digits);
  const common = `peak RSS ${fixed(f.peakRssMiB, 0)} MiB${run.consistent ? '' : `, INCONSISTENT: ${run.failedChecks.join('; ')}`}`;
  const calls = `${f.listCalls ?? '-'} list calls, ${f.updateCalls ?? '-'} update calls`;
  if (run.pipeline === 'ceiling') {
    return `${fixed(f.drainSeconds, 2)} s, ${fixed(f.payoutsPerSecond, 0)} updates/s, ${calls}${run.consistent ? '' : `, INCONSISTENT: ${run.failedChecks.join('; ')}`}`;
  }
  if (f.drainSeconds !== undefined) {
    return `${fixed(f.drainSeconds, 2)} s, ${fixed(f.payoutsPerSecond, 0)} payouts/s, ${calls}, ${common}`;
  }
  return (
    `${fixed(f.creationRatePerSecond)}/s, ${f.payouts} payouts, p99 recorded ${fixed(f.toRecordedP99Ms, 0)} ms, ` +
    `p99 processing ${fixed(f.toProcessingP99Ms, 0)} ms, backlog at end ${f.backlogAtEnd}, ${common}`
  );
}

/** A day's outage drains for about a quarter of an hour per pipeline: one run of it is enough. */
function repeatsOf(spec: CaseSpec, repeat: number): number {
  return spec.kind === 'drain' && spec.n >= OUTAGE_DRAIN ? 1 : repeat;
}
