import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../report/index.js';
import { ApiLogWindow } from './api-log.js';
import { readCounter, SYNC_WORKFLOW_ID, type StackClients } from './clients.js';
import { reportOnce, type Convergence } from './converge.js';
import type { FaultRecord } from './faults.js';
import { activityTimeoutsSince } from './history.js';
import type { Check } from './scenario.js';
import type { Stack } from '../stack/stack.js';

type Figures = Record<string, number | string>;

/**
 * What the runner observes around a scenario, apart from the report: the services' pids, the
 * worker's partner-call counters, the API's log and Temporal's history. It gives the checks
 * every scenario shares — settled means settled, a process not killed kept running — and the
 * figures that explain a result.
 */
export class ScenarioWatch {
  private readonly startedAt = Date.now();
  private readonly workerPid: number | null;
  private readonly apiPid: number | null;
  private readonly apiLog: ApiLogWindow;
  private updatesBefore: number | null = null;
  private unavailableBefore: number | null = null;

  private constructor(
    private readonly stack: Stack,
    private readonly clients: StackClients,
  ) {
    this.workerPid = stack.pid('worker');
    this.apiPid = stack.pid('api');
    this.apiLog = new ApiLogWindow(stack.logFile('api'));
  }

  /** Call after the reset, before the scenario injects anything. */
  static async start(stack: Stack, clients: StackClients): Promise<ScenarioWatch> {
    const watch = new ScenarioWatch(stack, clients);
    watch.updatesBefore = await watch.partnerCalls({ operation: 'update' });
    watch.unavailableBefore = await watch.partnerCalls({ outcome: 'unavailable' });
    return watch;
  }

  private partnerCalls(labels: Record<string, string>): Promise<number | null> {
    return readCounter(`${this.stack.addresses.workerUrl}/metrics`, 'expenzy_partner_calls_total', labels);
  }

  private get sameWorker(): boolean {
    return this.workerPid !== null && this.stack.pid('worker') === this.workerPid;
  }

  /**
   * After convergence, nothing may change: watches `settleMs`, then reads the final report and
   * checks it is still consistent with no partner update meanwhile (no late duplicate, no retry
   * storm).
   */
  async settle(
    convergence: Convergence,
    settleMs: number,
    allowRepeatedUpdates: boolean,
    checks: Check[],
  ): Promise<Report> {
    const updatesAtConvergence = await this.partnerCalls({ operation: 'update' });
    await sleep(settleMs);
    const report = await reportOnce(this.clients, allowRepeatedUpdates);
    const updatesAfter = await this.partnerCalls({ operation: 'update' });

    checks.push({ name: 'converged', ok: convergence.converged, detail: convergence.lastError });
    checks.push({
      name: 'report consistent after settling',
      ok: report.consistent,
      detail: failedChecks(report),
    });
    if (!convergence.converged || !convergence.report) return report;
    const before = convergence.report.updates.beyondOne;
    checks.push({
      name: 'no update after convergence',
      ok: report.updates.beyondOne === before,
      detail: `updates beyond one ${before} -> ${report.updates.beyondOne}`,
    });
    if (updatesAtConvergence !== null && updatesAfter !== null)
      checks.push({
        name: 'no partner update calls while settled',
        ok: updatesAfter === updatesAtConvergence,
        detail: `${updatesAfter - updatesAtConvergence} update calls in ${settleMs} ms`,
      });
    return report;
  }

  /** The shared figures, and: a process the scenario did not kill or stop rode through its faults. */
  async finish(faults: FaultRecord[], figures: Figures, checks: Check[]): Promise<void> {
    const updatesAfter = await this.partnerCalls({ operation: 'update' });
    const unavailableAfter = await this.partnerCalls({ outcome: 'unavailable' });
    if (this.sameWorker && this.updatesBefore !== null && updatesAfter !== null)
      figures.partnerUpdateCalls = updatesAfter - this.updatesBefore;
    if (this.sameWorker && this.unavailableBefore !== null && unavailableAfter !== null)
      figures.partnerUnavailable = unavailableAfter - this.unavailableBefore;

    const timeouts = await activityTimeoutsSince(
      this.clients.temporal,
      SYNC_WORKFLOW_ID,
      this.startedAt,
    ).catch((failure: Error) => `unknown (${failure.message})`);
    if (timeouts) figures.retriedAfterTimeout = timeouts;
    // Webhooks held a second or more, or answered 503 (then only reconciliation finds the payout).
    const answers = this.apiLog.webhookAnswers();
    if (answers && (answers.slow > 0 || answers.failed > 0)) {
      figures.webhooksAnsweredAfter1s = answers.slow;
      figures.webhooksAnsweredNon200 = answers.failed;
      figures.webhookAnswerMaxMs = answers.max;
    }

    const injected = new Set(faults.map((fault) => fault.kind));
    if (!injected.has('worker-sigkill') && !injected.has('worker-restart'))
      checks.push({
        name: 'worker process not restarted',
        ok: this.sameWorker,
        detail: `pid ${this.workerPid} -> ${this.stack.pid('worker')}`,
      });
    if (!injected.has('api-down') && !injected.has('api-sigkill'))
      checks.push({
        name: 'API process not restarted',
        ok: this.apiPid !== null && this.stack.pid('api') === this.apiPid,
        detail: `pid ${this.apiPid} -> ${this.stack.pid('api')}`,
      });
  }
}

function failedChecks(report: Report): string | undefined {
  const failed = report.checks.filter((check) => check.status === 'FAIL');
  return failed.length ? failed.map((check) => `${check.label}: ${check.figure}`).join('; ') : undefined;
}
