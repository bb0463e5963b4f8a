import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ports } from '../../config/ports.js';
import { freeStackPorts, type PortBand } from './ports.js';

/**
 * The real local stack as separate processes, driven through scripts/stack.sh, for the chaos
 * runner, the soak and the bench: a copy of its own (its STACK_DIR, PostgreSQL cluster, Temporal
 * database and ports), so a `make up` on the default ports is never touched.
 */

export type Service = 'postgres' | 'temporal' | 'migrate' | 'expenzy' | 'worker' | 'worker2' | 'api';
/** The worker processes: `worker`, and `worker2` (started on request, same task queue). */
export type WorkerService = Extract<Service, 'worker' | 'worker2'>;

const root = new URL('../../', import.meta.url).pathname;

/** Databases someone else provides (the test suite's): PostgreSQL is then not started. */
export interface ExternalDatabases {
  holviOwnerUrl: string;
  holviAppUrl: string;
  expenzyDbUrl: string;
}

export interface StackAddresses extends ExternalDatabases {
  stackDir: string;
  temporalAddress: string;
  expenzyUrl: string;
  apiUrl: string;
  workerUrl: string;
  worker2Url: string;
}

export interface StackOptions {
  /** STACK_DIR; by default a new temporary directory, which `dispose` removes. */
  dir?: string;
  /** Where each service listens; by default free ports (the first ones of `portBand` when given). */
  ports?: Ports;
  portBand?: PortBand;
  /** The services' environment on top of the caller's (RECONCILE_INTERVAL, EXPENZY_FAILURE_RATE, …). */
  env?: Record<string, string>;
  databases?: ExternalDatabases;
  /** A Temporal server someone else runs: then not started here. */
  temporalAddress?: string;
  /** Seconds a stopped service gets before SIGKILL. */
  stopGraceSeconds?: number;
  /** Echo stack.sh's progress lines here; silent by default. */
  log?: (line: string) => void;
}

/** Variables that would point the services at another stack; this one sets its own. */
const inheritedAddresses = [
  'HOLVI_DATABASE_URL',
  'HOLVI_MIGRATION_DATABASE_URL',
  'EXPENZY_DATABASE_URL',
  'EXPENZY_API_BASE_URL',
  'HOLVI_API_BASE_URL',
  'STACK_SERVICES',
];

/** The entrypoint in a service's command line: only a process running it is signalled. */
const entrypoints = {
  worker: 'src/worker/main.ts',
  worker2: 'src/worker/main.ts',
  api: 'src/api/server.ts',
  expenzy: 'expenzy/server.ts',
};

export class StackCommandError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

export class Stack {
  private temporalCli: string | undefined;

  private constructor(
    readonly addresses: StackAddresses,
    /** The long-running services this stack starts itself, in start order (worker2 only on request). */
    readonly services: Service[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
    private readonly ownsDir: boolean,
  ) {}

  /** Chooses the ports and the STACK_DIR; starts nothing (see `up`). */
  static async create(options: StackOptions = {}): Promise<Stack> {
    const stackDir = options.dir ?? mkdtempSync(join(tmpdir(), 'expenzy-stack-'));
    const ports = options.ports ?? (await freeStackPorts(options.portBand));
    const local = (role: string, database: string) =>
      `postgres://${role}:${role}@127.0.0.1:${ports.postgres}/${database}`;
    const databases = options.databases ?? {
      holviOwnerUrl: local('holvi_owner', 'holvi'),
      holviAppUrl: local('holvi_app', 'holvi'),
      expenzyDbUrl: local('expenzy', 'expenzy'),
    };
    const temporalAddress = options.temporalAddress ?? `127.0.0.1:${ports.temporal}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of inheritedAddresses) delete env[name];
    Object.assign(env, {
      STACK_DIR: stackDir,
      PGPORT: String(ports.postgres),
      TEMPORAL_ADDRESS: temporalAddress,
      STACK_TEMPORAL_UI_PORT: String(ports.temporalUi),
      EXPENZY_PORT: String(ports.expenzy),
      HOLVI_API_PORT: String(ports.api),
      WORKER_METRICS_PORT: String(ports.workerMetrics),
      WORKER_SDK_METRICS_PORT: String(ports.workerSdkMetrics),
      WORKER2_METRICS_PORT: String(ports.worker2Metrics),
      WORKER2_SDK_METRICS_PORT: String(ports.worker2SdkMetrics),
      STACK_STOP_GRACE: String(options.stopGraceSeconds ?? 5),
      ...(options.databases
        ? {
            HOLVI_DATABASE_URL: databases.holviAppUrl,
            HOLVI_MIGRATION_DATABASE_URL: databases.holviOwnerUrl,
            EXPENZY_DATABASE_URL: databases.expenzyDbUrl,
          }
        : {}),
      ...options.env,
    });
    const services: Service[] = ['postgres', 'temporal', 'migrate', 'expenzy', 'worker', 'api'];
    const own = services.filter(
      (service) =>
        !(service === 'postgres' && options.databases) &&
        !(service === 'temporal' && options.temporalAddress),
    );
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const addresses: StackAddresses = {
      stackDir,
      temporalAddress,
      expenzyUrl: url(ports.expenzy),
      apiUrl: url(ports.api),
      workerUrl: url(ports.workerMetrics),
      worker2Url: url(ports.worker2Metrics),
      ...databases,
    };
    return new Stack(addresses, own, env, options.log ?? (() => {}), options.dir === undefined);
  }

  /** The environment stack.sh and the services see, with `extra` on top (for a process of the caller's). */
  environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...this.env, ...extra };
  }

  /**
   * Runs `stack.sh ARGS…`; throws with the end of its output when it fails. `env` reaches a
   * service started by this call (e.g. a worker with another EXPENZY_CALL_TIMEOUT).
   */
  run(args: string[], timeoutMs = 180_000, env: Record<string, string> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        [join(root, 'scripts/stack.sh'), ...args],
        { env: this.environment(env), cwd: root, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const output = `${stdout}${stderr}`;
          for (const line of stdout.split('\n')) if (line.startsWith('==>')) this.log(line);
          if (error) {
            const tail = output.trim().split('\n').slice(-40).join('\n');
            reject(
              new StackCommandError(`stack.sh ${args.join(' ')} failed: ${error.message}\n${tail}`, output),
            );
          } else resolve(output);
        },
      );
    });
  }

  /** Those of `services` this stack runs itself, as stack.sh's STACK_SERVICES. */
  private only(services: Service[]): Record<string, string> {
    const ours: Service[] = [...this.services, 'worker2'];
    return { STACK_SERVICES: services.filter((service) => ours.includes(service)).join(' ') };
  }

  /** Starts every service (or those of `services`) that is not running and waits until each is healthy. */
  up = (services: Service[] = this.services) =>
    this.run(['up'], 300_000, this.only(services)).then(() => undefined);
  /** Stops everything this stack started, worker2 included. */
  down = () => this.run(['down'], 120_000, this.only([...this.services, 'worker2'])).then(() => undefined);
  /** Starts a service (with `env` on top of the stack's), waits until it is healthy. */
  start = (service: Service, env?: Record<string, string>) =>
    this.run(['start', service], undefined, env).then(() => undefined);
  stop = (service: Service) => this.run(['stop', service]).then(() => undefined);
  kill = (service: Service) => this.run(['kill', service]).then(() => undefined);
  restart = (service: Service, env?: Record<string, string>) =>
    this.run(['restart', service], undefined, env).then(() => undefined);

  /** Exit status 0 of `stack.sh status` over the services `up` starts: every one healthy. */
  async healthy(): Promise<boolean> {
    try {
      await this.run(['status'], 60_000, this.only(this.services));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * What `stack.sh kill` does for a service of ours (SIGKILL to its process group, pid file
   * left, so `status` says DEAD), without a shell's start-up delay: for a kill aimed at a moment
   * that lasts only milliseconds. Only a process whose command line is the service's is killed.
   */
  killNow(service: WorkerService | 'api' | 'expenzy'): void {
    this.signalNow(service, 'SIGKILL');
  }

  /**
   * SIGSTOP / SIGCONT to a service's process group: a stalled process (a GC or VM pause, a
   * frozen container) that keeps its sockets and, once continued, carries on where it stopped.
   */
  pause = (service: WorkerService | 'api') => this.signalNow(service, 'SIGSTOP');
  resume = (service: WorkerService | 'api') => this.signalNow(service, 'SIGCONT');

  private signalNow(service: WorkerService | 'api' | 'expenzy', signal: NodeJS.Signals): void {
    const pid = this.pid(service);
    if (pid === null || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(entrypoints[service]))
      throw new Error(`${service} is not running`);
    this.log(`==> ${signal} ${service} (pid ${pid}, process group)`);
    process.kill(-pid, signal);
  }

  /**
   * The `temporal` CLI against this stack's server, as an operator would type it (the runbook's
   * terminate, reset, start). Resolves with its output; throws with it when the command fails.
   */
  temporal(args: string[], timeoutMs = 30_000): Promise<string> {
    this.temporalCli ??= execFileSync('bash', [join(root, 'scripts/install-temporal.sh')], {
      encoding: 'utf8',
    }).trim();
    const cli = this.temporalCli;
    return new Promise((resolve, reject) => {
      execFile(
        cli,
        [...args, '--address', this.addresses.temporalAddress],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error)
            reject(new Error(`temporal ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
          else resolve(`${stdout}${stderr}`);
        },
      );
    });
  }

  /** The pid stack.sh recorded for a service (PostgreSQL's postmaster), when that process still exists. */
  pid(service: Exclude<Service, 'migrate'>): number | null {
    const file =
      service === 'postgres'
        ? join(this.addresses.stackDir, 'postgres/data/postmaster.pid')
        : join(this.addresses.stackDir, `pids/${service}.pid`);
    try {
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`) ? pid : null;
    } catch {
      return null;
    }
  }

  /** A service's log; also where a caller keeps the log of a process of its own (the bench's baseline). */
  logFile(name: Service | 'baseline'): string {
    return join(this.addresses.stackDir, `logs/${name}.log`);
  }

  /** Stops everything; then removes the STACK_DIR it created unless `keepDir` (kept if `down` failed). */
  async dispose({ keepDir = false } = {}): Promise<void> {
    await this.down();
    if (this.ownsDir && !keepDir) rmSync(this.addresses.stackDir, { recursive: true, force: true });
  }
}
