import { setTimeout as sleep } from 'node:timers/promises';
import type { KnobPatch, KnobSettings } from '../../expenzy/knobs.js';
import { callJson, type StackClients } from './clients.js';
import { floodWebhooks, type FloodResult } from './flood.js';
import type { Service, Stack } from './stack.js';

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
  | 'webhook-flood';

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
   * SIGKILL of the worker, aimed at a pass: waits (bounded) until the sync reports a pass
   * running, then a random few hundred milliseconds more; the worker stays down a random
   * moment, then is started again (stack.sh waits until it is healthy).
   */
  async killWorker(): Promise<{ midPass: boolean }> {
    const deadline = performance.now() + 10_000;
    let midPass = false;
    while (performance.now() < deadline) {
      if ((await this.clients.syncStatus(1_000))?.passRunning) {
        midPass = true;
        break;
      }
      await sleep(20);
    }
    await sleep(Math.random() * 300);
    const killedAt = performance.now();
    await this.stack.kill('worker');
    await sleep(Math.random() * 1_000);
    await this.stack.start('worker');
    this.record(
      'worker-sigkill',
      `worker SIGKILL${midPass ? ' during a pass' : ' (no pass seen running)'}`,
      performance.now() - killedAt,
    );
    return { midPass };
  }

  /** stack.sh restart: SIGTERM, then the same command (Temporal keeps its --db-filename). */
  async restart(service: Extract<Service, 'temporal' | 'postgres'>): Promise<void> {
    const began = performance.now();
    await this.stack.restart(service);
    this.record(`${service}-restart`, `${service} restarted`, performance.now() - began);
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

  async flood(amount: number, connections: number): Promise<FloodResult> {
    const result = await floodWebhooks(this.clients.addresses.apiUrl, amount, connections);
    this.record('webhook-flood', `${result.requests} webhooks at ${connections} concurrent`);
    return result;
  }
}
