import type { Report } from '../report/index.js';
import type { StackClients } from './clients.js';
import type { Convergence } from './converge.js';
import type { Faults } from './faults.js';
import type { Production, ProductionOptions } from './produce.js';
import type { Stack } from '../stack/stack.js';

export type Scale = 'small' | 'full';

/** One named assertion of a scenario's result. */
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

/** How big each scenario is at a scale (tools/chaos/sizes.ts). */
export interface Sizes {
  /** Payouts of a single-fault scenario. */
  payouts: number;
  /** Producer: seconds between two creations, and webhooks in flight at once. */
  sleepSeconds: number;
  concurrency: number;
  /** Worker SIGKILLs in the worker-kill scenario. */
  kills: number;
  /**
   * When a worker kill strikes: during any activity of a pass (`full`), or during MarkProcessing
   * (`small`: a kill during FetchTransactions stalls the sync until that activity's 2-minute
   * start-to-close timeout, which would blow the test suite's time budget).
   */
  killAim: 'any' | 'MarkProcessing';
  temporalRestarts: number;
  outageSeconds: number;
  /** Payouts made while the partner answers in 1–3 s. */
  latencyPayouts: number;
  floodAmount: number;
  floodConnections: number;
  /** The webhook flood must be answered within this at p99. */
  floodP99LimitMs: number;
  everythingPayouts: number;
  /** Partner latency in the everything-at-once scenario. */
  everythingLatencyMs: string;
  /** Payouts made while a second sync runs beside the singleton. */
  strayPayouts: number;
  /** The backlog a terminate or a reset strikes in the middle of (made at once, no webhooks). */
  backlogPayouts: number;
  /** Payouts the partner refuses whole, with the worker's FETCH_BATCH_SIZE at its maximum. */
  refusedPayouts: number;
  convergeTimeoutMs: number;
  /** How long a converged system is watched for late changes before the final report. */
  settleMs: number;
}

/** What a scenario may use while it runs. */
export interface ScenarioContext {
  scale: Scale;
  sizes: Sizes;
  stack: Stack;
  clients: StackClients;
  faults: Faults;
  /** Figures shown with the result (created payouts and webhook counts are filled in). */
  figures: Record<string, number | string>;
  log(line: string): void;
  /** A scenario-specific assertion, part of the result. */
  check(name: string, ok: boolean, detail?: string): void;
  /** Starts the producer in the background; the runner waits for it before converging. */
  produce(options: Partial<ProductionOptions> & { count: number }): Production;
  /** Waits for a consistent report now (for scenarios in phases). */
  converge(timeoutMs?: number): Promise<Convergence>;
  /** Runs after the final report, even on failure (e.g. start a stopped service). */
  onCleanup(cleanup: () => Promise<void>): void;
  workerCounter(name: string, labels?: Record<string, string>): Promise<number | null>;
  apiCounter(name: string, labels?: Record<string, string>): Promise<number | null>;
}

export interface Scenario {
  /** Short name for --only and the table. */
  name: string;
  title: string;
  /** Fail-after-commit makes repeated updates expected: the report shows them as WARN. */
  allowRepeatedUpdates?: boolean;
  /** Produces payouts and injects the faults; resolves when both are over. */
  inject(context: ScenarioContext): Promise<void>;
  /** Scenario-specific checks on the converged system. */
  verify?(context: ScenarioContext, report: Report, convergence: Convergence): Promise<void> | void;
}
