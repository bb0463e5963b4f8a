import { parseArgs } from 'node:util';
import type { Ports } from '../config/ports.js';
import type { ExternalDatabases } from '../tools/stack/stack.js';

export const caseNames = ['drain', 'stream-50', 'stream-max'] as const;
export type CaseName = (typeof caseNames)[number];
/**
 * temporal: webhook → API → workflow → worker (the product); direct: the same activities in one
 * process (direct-baseline.ts); ceiling: a plain client sending the updates alone (ceiling.ts).
 */
export const pipelineNames = ['temporal', 'direct', 'ceiling'] as const;
export type PipelineName = (typeof pipelineNames)[number];

export interface BenchOptions {
  /** Payouts waiting for the drain: one drain case per size. */
  sizes: number[];
  repeat: number;
  streamSeconds: number;
  cases: CaseName[];
  pipelines: PipelineName[];
  /** Payouts pushed through before each measured case (then wiped), so nothing is cold. */
  warmup: number;
  seed: number;
  /** Share of partner updates answered 500 (the simulator's failureRate) in the stream cases. */
  failureRate: number;
  /** The same, in the drain cases (the ceiling of a case runs at its case's rate). */
  drainFailureRate: number;
  /** Payouts the ceiling updates in a stream case (in a drain case: the drain's N). */
  ceilingN: number;
  outDir: string;
  stackDir: string;
  /** Where the bench's stack listens; from code, free ports when left out. */
  ports?: Ports;
  /** Leave the stack running at the end (for a look at its logs or the Temporal UI). */
  keepStack: boolean;
  /** Longest wait for a drain (or a stream's drain-out) before the case counts as failed. */
  timeoutSeconds: number;
  /** Written in the JSON and used in the file names, e.g. "n100000". */
  label: string;
  /** Only from code (the test): databases and a Temporal server someone else runs. */
  databases?: ExternalDatabases;
  temporalAddress?: string;
  /** A task queue of its own on a shared Temporal server. */
  taskQueue?: string;
}

export const usage = `usage: npx tsx bench/run.ts [options]   (make bench; every option also as an env variable)
  --n N[,N…]            payouts waiting for the drain, one drain case per size
                        (N, 1000,10000,100000,1000000; 1,000,000 and more run once)
  --repeat R            runs of each case and pipeline; medians are quoted (BENCH_REPEAT, 3)
  --stream-seconds S    length of each stream case (BENCH_STREAM_SECONDS, 60)
  --cases LIST          drain,stream-50,stream-max (BENCH_CASES, all)
  --pipelines LIST      temporal,direct,ceiling (BENCH_PIPELINES, all three)
  --warmup W            payouts synced and wiped before each measured run (BENCH_WARMUP, 200)
  --seed S              EXPENZY_SEED and the drain's data (EXPENZY_SEED, 42)
  --failure-rate F      share of partner updates answered 500 (EXPENZY_FAILURE_RATE, 0.05)
  --drain-failure-rate F  the same for the drain cases only (BENCH_DRAIN_FAILURE_RATE, --failure-rate)
  --ceiling-n C         payouts the ceiling updates in a stream case; in a drain case it updates
                        the drain's N (BENCH_CEILING_N, 10000)
  --out DIR             where the JSON and PNG go (BENCH_OUT, bench/results)
  --stack-dir DIR       the bench stack's STACK_DIR (BENCH_STACK_DIR, bench/.stack)
  --port-base P         ports P…P+8 for pg, temporal, temporal UI, expenzy, api, worker metrics,
                        worker SDK metrics (and a second worker's two, which the bench does not
                        start) (BENCH_PORT_BASE; default 56432,17233,18233,15001,15002,15003,16003)
  --timeout S           longest wait for one drain (BENCH_TIMEOUT, 1800)
  --keep-stack          leave the stack running at the end
  --from FILE.json      print the table (and markdown) of an earlier run, draw its PNG again
Worker settings (FETCH_BATCH_SIZE, EXPENZY_MAX_PARALLEL_CALLS, HOLVI_DB_POOL_SIZE, …) are read
from the environment by both pipelines, as src/config.ts reads them.`;

export class OptionError extends Error {}

const root = new URL('../', import.meta.url).pathname;

function whole(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new OptionError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function share(name: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || value > 1) {
    throw new OptionError(`${name} must be a number from 0 to 1, got "${raw}"`);
  }
  return value;
}

function list<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((item) => item.trim());
  const bad = items.filter((item) => !allowed.includes(item as T));
  if (bad.length > 0 || items.length === 0) {
    throw new OptionError(`${name}: unknown ${bad.join(', ')} (one or more of ${allowed.join(', ')})`);
  }
  return items as T[];
}

/** Not `make up`'s (config/ports.json): the bench runs next to a stack on those. */
const benchPorts: Ports = {
  postgres: 56432,
  temporal: 17233,
  temporalUi: 18233,
  expenzy: 15001,
  api: 15002,
  workerMetrics: 15003,
  workerSdkMetrics: 16003,
  worker2Metrics: 15004,
  worker2SdkMetrics: 16004,
};

/** --port-base P: P, P + 1, … in this order. */
const portOrder: (keyof Ports)[] = [
  'postgres',
  'temporal',
  'temporalUi',
  'expenzy',
  'api',
  'workerMetrics',
  'workerSdkMetrics',
  'worker2Metrics',
  'worker2SdkMetrics',
];

export function benchOptionsFrom(env: NodeJS.ProcessEnv, argv: string[]): BenchOptions | 'help' {
  let flags: Record<string, string | boolean | undefined>;
  try {
    ({ values: flags } = parseArgs({
      args: argv,
      options: {
        n: { type: 'string' },
        repeat: { type: 'string' },
        'stream-seconds': { type: 'string' },
        cases: { type: 'string' },
        pipelines: { type: 'string' },
        warmup: { type: 'string' },
        seed: { type: 'string' },
        'failure-rate': { type: 'string' },
        'drain-failure-rate': { type: 'string' },
        'ceiling-n': { type: 'string' },
        out: { type: 'string' },
        'stack-dir': { type: 'string' },
        'port-base': { type: 'string' },
        timeout: { type: 'string' },
        'keep-stack': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  if (flags.help) return 'help';
  const pick = (flag: string, variable: string, fallback: string): [string, string] => {
    const fromFlag = flags[flag];
    if (typeof fromFlag === 'string' && fromFlag !== '') return [`--${flag}`, fromFlag.trim()];
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return [variable, fromEnv.trim()];
    return [`--${flag}`, fallback];
  };

  const [sizeName, sizeRaw] = pick('n', 'N', '1000,10000,100000,1000000');
  const sizes = sizeRaw.split(',').map((size) => whole(sizeName, size.trim(), 1, 10_000_000));
  const repeat = whole(...pick('repeat', 'BENCH_REPEAT', '3'), 1, 100);
  const streamSeconds = whole(...pick('stream-seconds', 'BENCH_STREAM_SECONDS', '60'), 1, 3600);
  const cases = list(...pick('cases', 'BENCH_CASES', caseNames.join(',')), caseNames);
  const pipelines = list(...pick('pipelines', 'BENCH_PIPELINES', pipelineNames.join(',')), pipelineNames);
  const warmup = whole(...pick('warmup', 'BENCH_WARMUP', '200'), 1, 100_000);
  const seed = whole(...pick('seed', 'EXPENZY_SEED', '42'), 0, 2 ** 31 - 1);
  const failureRate = share(...pick('failure-rate', 'EXPENZY_FAILURE_RATE', '0.05'));
  const drainFailureRate = share(
    ...pick('drain-failure-rate', 'BENCH_DRAIN_FAILURE_RATE', String(failureRate)),
  );
  const ceilingN = whole(...pick('ceiling-n', 'BENCH_CEILING_N', '10000'), 1, 10_000_000);
  const [, outDir] = pick('out', 'BENCH_OUT', `${root}bench/results`);
  const [, stackDir] = pick('stack-dir', 'BENCH_STACK_DIR', `${root}bench/.stack`);
  const [baseName, baseRaw] = pick('port-base', 'BENCH_PORT_BASE', '');
  const ports = { ...benchPorts };
  if (baseRaw !== '') {
    const base = whole(baseName, baseRaw, 1024, 65_535 - portOrder.length);
    for (const [i, name] of portOrder.entries()) ports[name] = base + i;
  }
  const timeoutSeconds = whole(...pick('timeout', 'BENCH_TIMEOUT', '1800'), 10, 86_400);
  return {
    sizes,
    repeat,
    streamSeconds,
    cases,
    pipelines,
    warmup,
    seed,
    failureRate,
    drainFailureRate,
    ceilingN,
    outDir,
    stackDir,
    ports,
    keepStack: flags['keep-stack'] === true,
    timeoutSeconds,
    label: `n${sizes.join('-')}`,
  };
}
