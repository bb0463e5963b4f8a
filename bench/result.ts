import type { CaseSpec, RunResult } from './cases.js';
import type { BenchOptions, PipelineName } from './options.js';
import type { Machine } from './proc.js';
import type { Figures } from './stats.js';

/** What a bench run gives (its JSON file): read by the runner, the tables and chart, and the targets. */

export interface CaseResult {
  id: string;
  kind: CaseSpec['kind'];
  title: string;
  spec: CaseSpec;
  /** Median of each figure over the repetitions, per pipeline. */
  median: Partial<Record<PipelineName, Figures>>;
  /** Smallest and largest value of each figure over the repetitions, per pipeline. */
  min: Partial<Record<PipelineName, Figures>>;
  max: Partial<Record<PipelineName, Figures>>;
  /** Median CPU seconds per component, per pipeline. */
  cpuSeconds: Partial<Record<PipelineName, Figures>>;
  /** temporal / direct, figure by figure, on the medians. */
  ratios: Record<string, number | null>;
  /**
   * Each pipeline's throughput (median payouts/s) ÷ the ceiling's (median payouts/s) in the
   * same case; null without a ceiling run. In a stream case the producer sets the rate.
   */
  ofCeiling: Partial<Record<PipelineName, number | null>>;
  consistent: boolean;
  runs: RunResult[];
}

export interface BenchResult {
  tool: 'expenzy-sync bench';
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  loadAverageAtEnd: number[];
  /** The code measured: HEAD, and whether the work tree had changes. */
  git: { commit: string; dirty: boolean } | null;
  options: Omit<BenchOptions, 'outDir' | 'stackDir'>;
  /** The worker settings both pipelines ran with (src/config.ts, from the environment). */
  settings: {
    fetchBatchSize: number;
    maxParallelCalls: number;
    dbPoolSize: number;
    reconcileIntervalMs: number;
    signalMinIntervalMs: number;
    failureRate: number;
    drainFailureRate: number;
    /** Calls in flight of the ceiling's client (= maxParallelCalls). */
    ceilingParallelCalls: number;
    seed: number;
  };
  cases: CaseResult[];
  /** Runs that did not finish, with the reason; their case's medians leave them out. */
  failures: { case: string; pipeline: PipelineName; repetition: number; error: string }[];
  targets: TargetCheck[];
}

/** The issues' targets, checked on the medians of one run. */
export interface TargetCheck {
  target: string;
  /** The measured value, in the unit of the limit. */
  value: number | null;
  limit: string;
  met: boolean | null;
}
