import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../report.js';
import { callJson, connectClients, readCounter, type StackClients } from './clients.js';
import { reportOnce, waitForConvergence, type Convergence } from './converge.js';
import { Faults, type FaultRecord } from './faults.js';
import { startProduction, type Production, type ProductionOptions } from './produce.js';
import type { Scale, Scenario, ScenarioContext, Sizes } from './scenario.js';
import { RECONCILE_INTERVAL_SECONDS, sizesFor } from './sizes.js';
import { Stack } from './stack.js';

/**
 * Runs scenarios one after another on one isolated stack: reset, inject (faults while the
 * producer creates payouts), wait for convergence, let it settle, report, check. Used by
 * `make chaos` (tools/chaos.ts) and by test/chaos.test.ts with the small sizes.
 */

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

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
    const stack = await Stack.isolated({ env: { ...stackEnvironment, ...options.env }, log });
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
    await fetch(`${this.stack.addresses.apiUrl}/expenzy/webhook/`, { signal: AbortSignal.timeout(10_000) });
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
    await this.clients.ownerPool.query(
      'TRUNCATE holvi_received_payout, holvi_rejected_payout RESTART IDENTITY',
    );
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
    let convergence: Convergence | null = null;
    let finalReport: Report | null = null;
    let error: string | undefined;
    const cleanups: (() => Promise<void>)[] = [];
    const productions: Production[] = [];

    this.log(`scenario ${scenario.name}: ${scenario.title}`);
    try {
      await this.reset();
      this.faults.begin();
      const context = this.context(scenario, figures, checks, productions, cleanups);
      const updatesBefore = await this.workerCounter('expenzy_partner_calls_total', { operation: 'update' });
      const unavailableBefore = await this.workerCounter('expenzy_partner_calls_total', {
        outcome: 'unavailable',
      });
      const workerPid = this.stack.pid('worker');
      const apiPid = this.stack.pid('api');

      await scenario.inject(context);
      await Promise.all(productions.map((production) => production.done));
      const expectedPayouts = figures.created as number;
      this.log(`${scenario.name}: production and faults over; waiting for convergence`);
      convergence = await waitForConvergence(this.clients, {
        timeoutMs: this.sizes.convergeTimeoutMs,
        allowRepeatedUpdates,
        expectedPayouts,
      });
      this.log(
        `${scenario.name}: ${convergence.converged ? 'converged' : 'did NOT converge'} in ${(convergence.elapsedMs / 1000).toFixed(1)}s`,
      );

      // Nothing may change once converged: no late duplicate update, no retry storm.
      const updatesAtConvergence = await this.workerCounter('expenzy_partner_calls_total', {
        operation: 'update',
      });
      await sleep(this.sizes.settleMs);
      finalReport = await reportOnce(this.clients, allowRepeatedUpdates);
      const updatesAfterSettle = await this.workerCounter('expenzy_partner_calls_total', {
        operation: 'update',
      });
      const unavailableAfter = await this.workerCounter('expenzy_partner_calls_total', {
        outcome: 'unavailable',
      });
      const sameWorker = workerPid !== null && this.stack.pid('worker') === workerPid;
      if (sameWorker && updatesBefore !== null && updatesAfterSettle !== null)
        figures.partnerUpdateCalls = updatesAfterSettle - updatesBefore;
      if (sameWorker && unavailableBefore !== null && unavailableAfter !== null)
        figures.partnerUnavailable = unavailableAfter - unavailableBefore;

      checks.push({ name: 'converged', ok: convergence.converged, detail: convergence.lastError });
      checks.push({
        name: 'report consistent after settling',
        ok: finalReport.consistent,
        detail: failedChecks(finalReport),
      });
      if (convergence.report && convergence.converged) {
        checks.push({
          name: 'no update after convergence',
          ok: finalReport.updates.beyondOne === convergence.report.updates.beyondOne,
          detail: `updates beyond one ${convergence.report.updates.beyondOne} -> ${finalReport.updates.beyondOne}`,
        });
      }
      if (updatesAtConvergence !== null && updatesAfterSettle !== null && convergence.converged) {
        checks.push({
          name: 'no partner update calls while settled',
          ok: updatesAfterSettle === updatesAtConvergence,
          detail: `${updatesAfterSettle - updatesAtConvergence} update calls in ${this.sizes.settleMs} ms`,
        });
      }
      // A process the scenario did not kill or stop must have ridden through its faults.
      const injected = new Set(this.faults.injected.map((fault) => fault.kind));
      if (!injected.has('worker-sigkill'))
        checks.push({
          name: 'worker process not restarted',
          ok: sameWorker,
          detail: `pid ${workerPid} -> ${this.stack.pid('worker')}`,
        });
      if (!injected.has('api-down'))
        checks.push({
          name: 'API process not restarted',
          ok: apiPid !== null && this.stack.pid('api') === apiPid,
          detail: `pid ${apiPid} -> ${this.stack.pid('api')}`,
        });
      await scenario.verify?.(context, finalReport, convergence);
    } catch (caught) {
      error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
      this.log(`${scenario.name}: error: ${error}`);
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    }

    const report = finalReport ?? convergence?.report ?? null;
    const result: ScenarioResult = {
      name: scenario.name,
      title: scenario.title,
      scale: this.scale,
      payouts: report?.expenzy.total ?? 0,
      faults: [...this.faults.injected],
      faultSummary: summarizeFaults(this.faults.injected, figures),
      duplicates: report?.problems.duplicates.count ?? null,
      missing: report ? report.problems.missing.count + report.problems.unknownToExpenzy.count : null,
      mismatches: report
        ? report.problems.amountMismatch.count +
          report.problems.recipientMismatch.count +
          report.problems.createTimeMismatch.count
        : null,
      updatesBeyondOne: report?.updates.beyondOne ?? null,
      maxUpdateCount: report?.updates.max ?? null,
      converged: convergence?.converged ?? false,
      convergeSeconds: convergence?.converged ? round(convergence.elapsedMs / 1000) : null,
      totalSeconds: round((performance.now() - started) / 1000),
      figures,
      checks,
      passed: error === undefined && checks.length > 0 && checks.every((check) => check.ok),
      report,
    };
    if (error !== undefined) result.error = error;
    for (const check of checks.filter((c) => !c.ok))
      this.log(`${scenario.name}: FAILED check "${check.name}"${check.detail ? `: ${check.detail}` : ''}`);
    return result;
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
        void production.done.then(
          (totals) => {
            figures.created = (figures.created as number) + totals.created;
            for (const key of [
              'webhooksSent',
              'webhooksFailed',
              'webhooksDropped',
              'creationFailures',
            ] as const)
              figures[key] = ((figures[key] as number | undefined) ?? 0) + totals[key];
          },
          () => undefined,
        ); // a failed production is reported where it is awaited
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

const round = (value: number) => Math.round(value * 10) / 10;

function failedChecks(report: Report): string | undefined {
  const failed = report.checks.filter((check) => check.status === 'FAIL');
  return failed.length ? failed.map((check) => `${check.label}: ${check.figure}`).join('; ') : undefined;
}

/** "failureRate 0.5, listFailureRate 0.2; 5x worker SIGKILL (5 during a pass)". */
export function summarizeFaults(faults: FaultRecord[], figures: Record<string, number | string>): string {
  const parts: string[] = [];
  const knobs = faults.filter((fault) => fault.kind === 'partner-knobs').map((fault) => fault.detail);
  parts.push(...knobs);
  const counted: [FaultRecord['kind'], string][] = [
    ['partner-outage', 'outage'],
    ['worker-sigkill', 'worker SIGKILL'],
    ['temporal-restart', 'Temporal restart'],
    ['postgres-restart', 'PostgreSQL restart'],
    ['api-down', 'API down'],
  ];
  for (const [kind, label] of counted) {
    const ofKind = faults.filter((fault) => fault.kind === kind);
    if (ofKind.length === 0) continue;
    const detail =
      kind === 'partner-outage' || kind === 'api-down'
        ? ` ${ofKind.map((fault) => `${Math.round((fault.downMs ?? 0) / 1000)}s`).join('+')}`
        : '';
    parts.push(`${ofKind.length > 1 ? `${ofKind.length}x ` : ''}${label}${detail}`);
  }
  const flood = faults.find((fault) => fault.kind === 'webhook-flood');
  if (flood) parts.push(`flood ${flood.detail.replace(' webhooks at ', '@').replace(' concurrent', '')}`);
  if (typeof figures.webhooksDropped === 'number' && figures.webhooksDropped > 0)
    parts.push(`${figures.webhooksDropped} webhooks dropped`);
  if (typeof figures.partnerUnavailable === 'number' && figures.partnerUnavailable > 0)
    parts.push(`${figures.partnerUnavailable} partner calls failed`);
  return parts.join('; ');
}
