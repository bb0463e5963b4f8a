import { setTimeout as sleep } from 'node:timers/promises';
import type { KnobPatch, KnobSettings } from '../../expenzy/knobs.js';
import { callJson, SYNC_TASK_QUEUE, SYNC_WORKFLOW_ID, type StackClients } from './clients.js';
import { floodWebhooks, type FloodResult } from './flood.js';
import type { Service, Stack, WorkerService } from '../stack/stack.js';

/**
 * The fault injectors: the partner's knobs and outage (the simulator's admin routes), and the
 * processes of the stack (stack.sh kill / stop / restart). Every fault is recorded, with when it
 * happened relative to the scenario's start, for the table.
 */

export type FaultKind =
  | 'partner-knobs'
  | 'partner-outage'
  | 'worker-sigkill'
  | 'temporal-restart'
  | 'postgres-restart'
  | 'api-down'
  | 'api-sigkill'
  | 'webhook-flood'
  | 'worker-restart'
  | 'second-worker'
  | 'worker-sigstop'
  | 'sync-terminate'
  | 'sync-reset'
  | 'stray-sync';

export interface FaultRecord {
  kind: FaultKind;
  /** Milliseconds since the scenario started. */
  atMs: number;
  detail: string;
  /** How long the service was down (or the fault lasted), when known. */
  downMs?: number;
}

export class Faults {
  readonly injected: FaultRecord[] = [];
  private started = performance.now();
  private baseline: KnobSettings | undefined;

  constructor(
    private readonly stack: Stack,
    private readonly clients: StackClients,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Forgets the previous scenario's faults. */
  begin(): void {
    this.injected.length = 0;
    this.started = performance.now();
  }

  private record(kind: FaultKind, detail: string, downMs?: number): FaultRecord {
    const atMs = Math.round(performance.now() - this.started);
    const fault: FaultRecord = { kind, atMs, detail };
    if (downMs !== undefined) fault.downMs = Math.round(downMs);
    this.injected.push(fault);
    this.log(`fault at ${(atMs / 1000).toFixed(1)}s: ${detail}`);
    return fault;
  }

  private get admin() {
    return `${this.clients.addresses.expenzyUrl}/admin`;
  }

  /** Remembers the simulator's knobs as they are now, to restore them after every scenario. */
  async captureBaseline(): Promise<KnobSettings> {
    const view = (await callJson(`${this.admin}/knobs`)) as KnobSettings & Record<string, unknown>;
    const settings = Object.fromEntries(
      Object.entries(view).filter(([name]) => name !== 'outageSecondsLeft' && name !== 'seed'),
    ) as unknown as KnobSettings;
    this.baseline = settings;
    return settings;
  }

  async setKnobs(patch: KnobPatch): Promise<void> {
    await callJson(`${this.admin}/knobs`, 'PATCH', patch);
    const described = Object.entries(patch)
      .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join(',') : String(value)}`)
      .join(', ');
    this.record('partner-knobs', described);
  }

  /** Every /api call answers 503 for `seconds`. */
  async outage(seconds: number): Promise<void> {
    await callJson(`${this.admin}/outage`, 'POST', { seconds });
    this.record('partner-outage', `partner outage ${seconds}s`, seconds * 1000);
  }

  /** Back to the baseline knobs, no outage; not a fault. */
  async restoreKnobs(): Promise<void> {
    if (!this.baseline) throw new Error('captureBaseline first');
    await callJson(`${this.admin}/knobs`, 'PATCH', this.baseline);
    await callJson(`${this.admin}/outage`, 'POST', { seconds: 0 });
  }

  /**
   * SIGKILL of the worker while it runs an activity of the sync: `aim` 'any' waits (bounded)
   * for whichever activity of this worker process is seen first (the moment is random: when the
   * scenario calls, then the polling); an activity name waits for that one. The kill is stack.sh's
   * (SIGKILL to the process group) sent directly, so it lands while that activity runs. The worker stays down a random moment, then `stack.sh start worker`
   * (which waits until it is healthy). Returns what the kill interrupted, as the server saw it.
   */
  async killWorker(aim: 'any' | 'MarkProcessing' = 'any'): Promise<{ interrupted: string[] }> {
    const pid = this.stack.pid('worker');
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const running = (await this.clients.runningActivities(pid, 1_000)) ?? [];
      if (aim === 'any' ? running.length > 0 : running.includes(aim)) break;
      await sleep(20);
    }
    const killedAt = performance.now();
    this.stack.killNow('worker');
    const interrupted = (await this.clients.runningActivities(pid)) ?? [];
    await sleep(Math.random() * 1_000);
    await this.stack.start('worker');
    const during = interrupted.length ? `during ${interrupted.join(' + ')}` : 'between activities';
    this.record('worker-sigkill', `worker SIGKILL ${during}`, performance.now() - killedAt);
    return { interrupted };
  }

  /** stack.sh restart: SIGTERM, then the same command (Temporal keeps its --db-filename). */
  async restart(service: Extract<Service, 'temporal' | 'postgres'>): Promise<void> {
    const began = performance.now();
    await this.stack.restart(service);
    this.record(`${service}-restart`, `${service} restarted`, performance.now() - began);
  }

  /**
   * SIGKILL of the Holvi API while webhooks flow: the webhooks it acknowledged last may have no
   * accepted signal yet, so only the reconciliation pass finds their payouts. Down a random
   * moment, then `stack.sh start api`.
   */
  async killApi(): Promise<void> {
    const killedAt = performance.now();
    this.stack.killNow('api');
    await sleep(Math.random() * 1_000);
    await this.stack.start('api');
    this.record('api-sigkill', 'API SIGKILL', performance.now() - killedAt);
  }

  /** Stops the Holvi API; the function returned starts it again. */
  async stopApi(): Promise<() => Promise<void>> {
    await this.stack.stop('api');
    const began = performance.now();
    const fault = this.record('api-down', 'Holvi API stopped');
    return async () => {
      await this.stack.start('api');
      fault.downMs = Math.round(performance.now() - began);
    };
  }

  /**
   * Restarts the worker with `env` on top of the stack's (a setting a scenario needs, such as a
   * longer EXPENZY_CALL_TIMEOUT); `whileDown` runs between the stop and the start. The function
   * returned restarts it with the stack's own settings again.
   */
  async restartWorker(
    env: Record<string, string>,
    whileDown?: () => Promise<void>,
  ): Promise<() => Promise<void>> {
    const began = performance.now();
    await this.stack.stop('worker');
    await whileDown?.();
    await this.stack.start('worker', env);
    const settings = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    this.record('worker-restart', `worker restarted with ${settings.join(' ')}`, performance.now() - began);
    return () => this.stack.restart('worker');
  }

  /** Starts `worker2`, a second worker process on the task queue; the function returned stops it. */
  async startSecondWorker(env: Record<string, string> = {}): Promise<() => Promise<void>> {
    await this.stack.start('worker2', env);
    const settings = Object.entries(env).map(([name, value]) => ` ${name}=${value}`);
    this.record('second-worker', `second worker started${settings.join('')}`);
    return () => this.stack.stop('worker2');
  }

  /**
   * SIGSTOP of a worker process: it stalls, keeps its connections and, once continued by the
   * function returned (SIGCONT, idempotent), carries on where it stopped.
   */
  pauseWorker(service: WorkerService, why: string): () => Promise<void> {
    const began = performance.now();
    this.stack.pause(service);
    const fault = this.record('worker-sigstop', `${service} SIGSTOP ${why}`);
    let resumed = false;
    return async () => {
      if (resumed) return;
      resumed = true;
      this.stack.resume(service);
      fault.downMs = Math.round(performance.now() - began);
      this.log(`${service} SIGCONT after ${(fault.downMs / 1000).toFixed(1)}s`);
    };
  }

  /** The runbook's `temporal workflow terminate` of the sync's current run. */
  async terminateSync(why: string): Promise<void> {
    await this.operate(SYNC_WORKFLOW_ID, 'terminate', [], why);
    this.record('sync-terminate', `sync terminated ${why}`);
  }

  /** The runbook's `temporal workflow reset --type LastWorkflowTask` of the sync's current run. */
  async resetSync(why: string): Promise<void> {
    await this.operate(SYNC_WORKFLOW_ID, 'reset', ['--type', 'LastWorkflowTask'], why);
    this.record('sync-reset', `sync reset to its last workflow task ${why}`);
  }

  /** `temporal workflow COMMAND --workflow-id ID OPTIONS… --reason "chaos: WHY"`, as an operator types it. */
  private operate(workflowId: string, command: string, options: string[], why: string): Promise<string> {
    return this.stack.temporal([
      'workflow',
      command,
      '--workflow-id',
      workflowId,
      ...options,
      '--reason',
      `chaos: ${why}`,
    ]);
  }

  /**
   * A second `expenzySync` on the sync's task queue under another workflow id, started as an
   * operator (or a deploy that changed SYNC_WORKFLOW_ID) would. The function returned
   * terminates it if it still runs.
   */
  async startStraySync(workflowId: string, reconcileIntervalMs: number): Promise<() => Promise<void>> {
    await this.stack.temporal([
      'workflow',
      'start',
      '--type',
      'expenzySync',
      '--task-queue',
      SYNC_TASK_QUEUE,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ reconcileIntervalMs }),
    ]);
    this.record('stray-sync', `second expenzySync started as ${workflowId}`);
    return async () => {
      if ((await this.clients.workflowStatus(workflowId)) !== 'RUNNING') return;
      await this.operate(workflowId, 'terminate', [], 'cleanup');
    };
  }

  async flood(amount: number, connections: number): Promise<FloodResult> {
    const result = await floodWebhooks(this.clients.addresses.apiUrl, amount, connections);
    this.record('webhook-flood', `${result.requests} webhooks at ${connections} concurrent`);
    return result;
  }
}

/** The faults on one line for the table: "failureRate 0.5, listFailureRate 0.2; 2x worker SIGKILL; …". */
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
    ['api-sigkill', 'API SIGKILL'],
    ['worker-restart', 'worker restart'],
    ['second-worker', 'second worker'],
    ['worker-sigstop', 'worker SIGSTOP'],
    ['sync-terminate', 'sync terminated'],
    ['sync-reset', 'sync reset'],
    ['stray-sync', 'stray sync'],
  ];
  for (const [kind, label] of counted) {
    const ofKind = faults.filter((fault) => fault.kind === kind);
    if (ofKind.length === 0) continue;
    const detail =
      kind === 'partner-outage' || kind === 'api-down' || kind === 'worker-sigstop'
        ? ` ${ofKind.map((fault) => `${Math.round((fault.downMs ?? 0) / 1000)}s`).join('+')}`
        : '';
    parts.push(`${ofKind.length > 1 ? `${ofKind.length}x ` : ''}${label}${detail}`);
  }
  const flood = faults.find((fault) => fault.kind === 'webhook-flood');
  if (flood) parts.push(`flood ${flood.detail.replace(' webhooks at ', '@').replace(' concurrent', '')}`);
  const p99 = figures.apiLoggedP99Ms ?? figures.floodP99Ms;
  if (p99 !== undefined) parts.push(`API p99 ${p99} ms`);
  if (figures.signalsSent !== undefined)
    parts.push(`${figures.signalsSent} signals for ${figures.webhooks} webhooks`);
  if (typeof figures.webhooksDropped === 'number' && figures.webhooksDropped > 0)
    parts.push(`${figures.webhooksDropped} webhooks dropped`);
  if (typeof figures.partnerUnavailable === 'number' && figures.partnerUnavailable > 0)
    parts.push(`${figures.partnerUnavailable} partner calls failed`);
  return parts.join('; ');
}
