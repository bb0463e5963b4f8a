import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../report/index.js';
import { callJson, connectClients, readCounter, type StackClients } from './clients.js';
import { waitForConvergence, type Convergence } from './converge.js';
import { Faults, summarizeFaults, type FaultRecord } from './faults.js';
import {
  startProduction,
  type Production,
  type ProductionOptions,
  type ProductionTotals,
} from './produce.js';
import type { Check, Scale, Scenario, ScenarioContext, Sizes } from './scenario.js';

export type { Check } from './scenario.js';
import { RECONCILE_INTERVAL_SECONDS, sizesFor } from './sizes.js';
import { Stack, type StackOptions } from '../stack/stack.js';
import { ScenarioWatch } from './watch.js';

/**
 * Runs scenarios one after another on one isolated stack: reset, inject (faults while the
 * producer creates payouts), wait for convergence, let it settle, report, check. Used by
 * `make chaos` (tools/chaos/cli.ts) and by test/chaos-*.test.ts with the small sizes.
 */

export interface ScenarioResult {
  name: string;
  title: string;
  scale: Scale;
  /** Payouts at Expenzy when the scenario ended. */
  payouts: number;
  faults: FaultRecord[];
  /** One line for the table. */
  faultSummary: string;
  duplicates: number | null;
  missing: number | null;
  mismatches: number | null;
  updatesBeyondOne: number | null;
  maxUpdateCount: number | null;
  converged: boolean;
  /** From the end of production and faults to the first consistent report. */
  convergeSeconds: number | null;
  totalSeconds: number;
  figures: Record<string, number | string>;
  checks: Check[];
  passed: boolean;
  error?: string;
  report: Report | null;
}

export interface RunnerOptions {
  scale: Scale;
  log?: (line: string) => void;
  /** Extra environment for the services (on top of the runner's own). */
  env?: Record<string, string>;
  /** Overrides for the sizes of `scale`. */
  sizes?: Partial<Sizes>;
  /** Ports from fixed bases rather than random free ones. */
  portBand?: StackOptions['portBand'];
}

/** The stack's settings for chaos: frequent reconciliation, a partner that only fails when told. */
const stackEnvironment = {
  RECONCILE_INTERVAL: `${RECONCILE_INTERVAL_SECONDS}s`,
  EXPENZY_FAILURE_RATE: '0',
  LOG_LEVEL: 'info',
};

export class ChaosRunner {
  private constructor(
    readonly stack: Stack,
    readonly clients: StackClients,
    readonly faults: Faults,
    readonly sizes: Sizes,
    readonly scale: Scale,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts an isolated stack (temporary STACK_DIR, free ports) and connects to it. */
  static async start(options: RunnerOptions): Promise<ChaosRunner> {
    const log = options.log ?? (() => {});
    const stack = await Stack.create({
      env: { ...stackEnvironment, ...options.env },
      log,
      ...(options.portBand ? { portBand: options.portBand } : {}),
    });
    log(`stack in ${stack.addresses.stackDir} (logs: ${stack.addresses.stackDir}/logs)`);
    try {
      await stack.up();
      const clients = await connectClients(stack.addresses);
      const faults = new Faults(stack, clients, log);
      await faults.captureBaseline();
      const sizes = { ...sizesFor(options.scale), ...options.sizes };
      return new ChaosRunner(stack, clients, faults, sizes, options.scale, log);
    } catch (error) {
      await stack.dispose({ keepDir: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Stops the stack; its directory (logs, databases) is kept when `keepDir`. */
  async close({ keepDir = false } = {}): Promise<void> {
    await this.clients.close().catch(() => undefined);
    await this.stack.dispose({ keepDir });
  }

  /**
   * Back to an empty, quiet system with the baseline knobs: every service up, Expenzy's payouts
   * deleted, one sync pass that started after that (so none still carries old payouts), then
   * Holvi's tables emptied as their owner.
   */
  async reset(): Promise<void> {
    if (!(await this.stack.healthy())) await this.stack.up();
    await this.faults.restoreKnobs();
    await callJson(`${this.stack.addresses.expenzyUrl}/admin/reset`, 'POST');
    const resetAt = new Date().toISOString();
    // A webhook starts a pass now rather than at the next reconciliation.
    await fetch(`${this.stack.addresses.apiUrl}/expenzy/webhook/`, {
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
    const deadline = performance.now() + 60_000;
    for (;;) {
      const status = await this.clients.syncStatus();
      if (status && !status.passRunning && (status.lastPassStartedAt ?? '') >= resetAt) break;
      if (performance.now() > deadline) {
        this.log('warning: no quiet sync pass after the reset within 60s');
        break;
      }
      await sleep(100);
    }
    await this.truncateHolviTables();
  }

  /**
   * Empties every table of Holvi's schema whose name starts with `holvi_`, found in pg_tables
   * rather than listed here, so that a table a later migration adds (a fence, a staging table)
   * is reset as well; but not the migrations' own bookkeeping (src/db/migrate.ts), or the next
   * process to start would migrate again, nor the fence's one row, which a holder may be using
   * (its epoch going on across scenarios changes nothing). Bounded: a lock held by a stuck process fails the
   * reset instead of hanging it.
   */
  private async truncateHolviTables(): Promise<void> {
    const client = await this.clients.ownerPool.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
          WHERE schemaname = current_schema() AND starts_with(tablename, 'holvi_')
            AND tablename <> ALL($1::text[])`,
        [[MIGRATIONS_TABLE, 'holvi_sync_fence']],
      );
      if (rows.length === 0) throw new Error("no holvi_ table in Holvi's schema: is it migrated?");
      await client.query('BEGIN');
      await client.query("SET LOCAL lock_timeout = '30s'");
      await client.query(`TRUNCATE ${rows.map((row) => row.name).join(', ')} RESTART IDENTITY`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  workerCounter(name: string, labels: Record<string, string> = {}): Promise<number | null> {
    return readCounter(`${this.stack.addresses.workerUrl}/metrics`, name, labels);
  }

  apiCounter(name: string, labels: Record<string, string> = {}): Promise<number | null> {
    return readCounter(`${this.stack.addresses.apiUrl}/metrics`, name, labels);
  }

  private running: Promise<unknown> = Promise.resolve();

  /** Runs one scenario; calls made meanwhile wait their turn (one stack, one scenario at a time). */
  run(scenario: Scenario): Promise<ScenarioResult> {
    const result = this.running.then(() => this.runNow(scenario));
    this.running = result.catch(() => undefined);
    return result;
  }

  private async runNow(scenario: Scenario): Promise<ScenarioResult> {
    const started = performance.now();
    const figures: Record<string, number | string> = {};
    const checks: Check[] = [];
    const allowRepeatedUpdates = scenario.allowRepeatedUpdates ?? false;
    const cleanups: (() => Promise<void>)[] = [];
    const productions: Production[] = [];
    let convergence: Convergence | null = null;
    let finalReport: Report | null = null;
    let error: string | undefined;

    this.log(`scenario ${scenario.name}: ${scenario.title}`);
    try {
      await this.reset();
      this.faults.begin();
      const watch = await ScenarioWatch.start(this.stack, this.clients);
      const context = this.context(scenario, figures, checks, productions, cleanups);

      await scenario.inject(context);
      await Promise.all(productions.map((production) => production.done));
      this.log(`${scenario.name}: production and faults over; waiting for convergence`);
      convergence = await context.converge();
      const seconds = (convergence.elapsedMs / 1000).toFixed(1);
      this.log(
        `${scenario.name}: ${convergence.converged ? 'converged' : 'did NOT converge'} in ${seconds}s`,
      );

      finalReport = await watch.settle(convergence, this.sizes.settleMs, allowRepeatedUpdates, checks);
      await watch.finish(this.faults.injected, figures, checks);
      await scenario.verify?.(context, finalReport, convergence);
    } catch (caught) {
      error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
      this.log(`${scenario.name}: error: ${error}`);
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    }
    for (const check of checks.filter((c) => !c.ok))
      this.log(`${scenario.name}: FAILED check "${check.name}"${check.detail ? `: ${check.detail}` : ''}`);

    const report = finalReport ?? convergence?.report ?? null;
    const problems = report?.problems;
    return {
      name: scenario.name,
      title: scenario.title,
      scale: this.scale,
      payouts: report?.expenzy.total ?? 0,
      faults: [...this.faults.injected],
      faultSummary: summarizeFaults(this.faults.injected, figures),
      duplicates: problems?.duplicates.count ?? null,
      missing: problems?.missing.count ?? null,
      mismatches: problems
        ? problems.amountMismatch.count + problems.recipientMismatch.count + problems.createTimeMismatch.count
        : null,
      updatesBeyondOne: report?.updates.beyondOne ?? null,
      maxUpdateCount: report?.updates.max ?? null,
      converged: convergence?.converged ?? false,
      convergeSeconds: convergence?.converged ? round(convergence.elapsedMs / 1000) : null,
      totalSeconds: round((performance.now() - started) / 1000),
      figures,
      checks,
      passed: error === undefined && checks.length > 0 && checks.every((check) => check.ok),
      ...(error === undefined ? {} : { error }),
      report,
    };
  }

  private context(
    scenario: Scenario,
    figures: Record<string, number | string>,
    checks: Check[],
    productions: Production[],
    cleanups: (() => Promise<void>)[],
  ): ScenarioContext {
    figures.created = 0;
    return {
      scale: this.scale,
      sizes: this.sizes,
      stack: this.stack,
      clients: this.clients,
      faults: this.faults,
      figures,
      log: (line) => this.log(`${scenario.name}: ${line}`),
      check: (name, ok, detail) => checks.push(detail === undefined ? { name, ok } : { name, ok, detail }),
      produce: (options: Partial<ProductionOptions> & { count: number }) => {
        const production = startProduction({
          concurrency: this.sizes.concurrency,
          sleepSeconds: this.sizes.sleepSeconds,
          expenzyUrl: this.stack.addresses.expenzyUrl,
          apiUrl: this.stack.addresses.apiUrl,
          ...options,
        });
        productions.push(production);
        // Counted once done; a failed production is reported where the runner awaits it.
        production.done.then(
          (totals) => addTotals(figures, totals),
          () => undefined,
        );
        return production;
      },
      converge: (timeoutMs = this.sizes.convergeTimeoutMs) =>
        waitForConvergence(this.clients, {
          timeoutMs,
          allowRepeatedUpdates: scenario.allowRepeatedUpdates ?? false,
          expectedPayouts: figures.created as number,
        }),
      onCleanup: (cleanup) => cleanups.push(cleanup),
      workerCounter: (name, labels) => this.workerCounter(name, labels),
      apiCounter: (name, labels) => this.apiCounter(name, labels),
    };
  }
}

/** node-pg-migrate's record of the migrations applied (migrationsTable in src/db/migrate.ts). */
const MIGRATIONS_TABLE = 'holvi_schema_migrations';

const round = (value: number) => Math.round(value * 10) / 10;

function addTotals(figures: Record<string, number | string>, totals: ProductionTotals): void {
  figures.created = Number(figures.created ?? 0) + totals.created;
  for (const key of ['webhooksSent', 'webhooksFailed', 'webhooksDropped', 'creationFailures'] as const)
    figures[key] = Number(figures[key] ?? 0) + totals[key];
}
