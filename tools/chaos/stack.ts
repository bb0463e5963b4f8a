import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, freePortsFrom } from './ports.js';

/**
 * The real local stack, as separate processes, driven through scripts/stack.sh: an isolated
 * copy of it (its own STACK_DIR, PostgreSQL cluster, Temporal database and free ports), so a
 * `make up` on the default ports is never touched.
 */

export type Service = 'postgres' | 'temporal' | 'migrate' | 'expenzy' | 'worker' | 'worker2' | 'api';
/** The worker processes: `worker`, and `worker2` (started on request, same task queue). */
export type WorkerService = Extract<Service, 'worker' | 'worker2'>;

const root = new URL('../../', import.meta.url).pathname;

export interface StackAddresses {
  stackDir: string;
  pgPort: number;
  temporalAddress: string;
  expenzyUrl: string;
  apiUrl: string;
  workerUrl: string;
  worker2Url: string;
  holviAppUrl: string;
  holviOwnerUrl: string;
  expenzyDbUrl: string;
}

export interface StackOptions {
  /** The services' environment on top of the caller's (RECONCILE_INTERVAL, EXPENZY_FAILURE_RATE, …). */
  env?: Record<string, string>;
  /** Used as STACK_DIR instead of a new temporary directory. */
  stackDir?: string;
  /** Seconds a stopped service gets before SIGKILL. */
  stopGraceSeconds?: number;
  /** Echo stack.sh's output here (progress lines); silent by default. */
  log?: (line: string) => void;
  /**
   * Ports from fixed bases instead of random free ones (each the first free from its base): the
   * services from `base`, the workers' metrics from `base + 100` (their SDK companions 1000
   * above), PostgreSQL from `postgres`. For a stack that must stay in a band of its own.
   */
  ports?: { base: number; postgres: number };
}

/** Variables that would point the services at another stack; the isolated stack sets its own. */
const inheritedAddresses = [
  'HOLVI_DATABASE_URL',
  'HOLVI_MIGRATION_DATABASE_URL',
  'EXPENZY_DATABASE_URL',
  'EXPENZY_API_BASE_URL',
  'HOLVI_API_BASE_URL',
  'STACK_SERVICES',
];

export class StackCommandError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

export class Stack {
  private constructor(
    readonly addresses: StackAddresses,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
    private readonly ownsDir: boolean,
  ) {}

  /** Picks free ports and a STACK_DIR; starts nothing (see `up`). */
  static async isolated(options: StackOptions = {}): Promise<Stack> {
    const stackDir = options.stackDir ?? mkdtempSync(join(tmpdir(), 'expenzy-chaos-'));
    const { ports } = options;
    const [postgresPort, temporalPort, uiPort, expenzyPort, apiPort] = ports
      ? [...(await freePortsFrom(ports.postgres, 1)), ...(await freePortsFrom(ports.base, 4))]
      : await freePorts(5);
    const [workerPort, worker2Port] = ports
      ? await freePortsFrom(ports.base + 100, 2, 1000)
      : await freePorts(2, 1000);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of inheritedAddresses) delete env[name];
    Object.assign(env, {
      STACK_DIR: stackDir,
      PGPORT: String(postgresPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      STACK_TEMPORAL_UI_PORT: String(uiPort),
      EXPENZY_PORT: String(expenzyPort),
      HOLVI_API_PORT: String(apiPort),
      WORKER_METRICS_PORT: String(workerPort),
      WORKER2_METRICS_PORT: String(worker2Port),
      STACK_STOP_GRACE: String(options.stopGraceSeconds ?? 5),
      ...options.env,
    });
    const addresses: StackAddresses = {
      stackDir,
      pgPort: postgresPort!,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      expenzyUrl: `http://127.0.0.1:${expenzyPort}`,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      workerUrl: `http://127.0.0.1:${workerPort}`,
      worker2Url: `http://127.0.0.1:${worker2Port}`,
      holviAppUrl: `postgres://holvi_app:holvi_app@127.0.0.1:${postgresPort}/holvi`,
      holviOwnerUrl: `postgres://holvi_owner:holvi_owner@127.0.0.1:${postgresPort}/holvi`,
      expenzyDbUrl: `postgres://expenzy:expenzy@127.0.0.1:${postgresPort}/expenzy`,
    };
    return new Stack(addresses, env, options.log ?? (() => {}), options.stackDir === undefined);
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
        { env: { ...this.env, ...env }, cwd: root, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
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

  /** Starts every service that is not running and waits until each is healthy. */
  up = () => this.run(['up'], 300_000).then(() => undefined);
  down = () => this.run(['down'], 120_000).then(() => undefined);
  /** Starts a service (with `env` on top of the stack's), waits until it is healthy. */
  start = (service: Service, env?: Record<string, string>) =>
    this.run(['start', service], undefined, env).then(() => undefined);
  stop = (service: Service) => this.run(['stop', service]).then(() => undefined);
  kill = (service: Service) => this.run(['kill', service]).then(() => undefined);
  restart = (service: Service, env?: Record<string, string>) =>
    this.run(['restart', service], undefined, env).then(() => undefined);

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
    const entrypoint = {
      worker: 'src/worker/main.ts',
      worker2: 'src/worker/main.ts',
      api: 'src/api/server.ts',
      expenzy: 'expenzy/server.ts',
    }[service];
    if (pid === null || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(entrypoint))
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

  private temporalCli: string | undefined;

  /** Exit status 0 of `stack.sh status`: every service healthy. */
  async healthy(): Promise<boolean> {
    try {
      await this.run(['status'], 60_000);
      return true;
    } catch {
      return false;
    }
  }

  /** The pid stack.sh recorded for a service, when that process still exists. */
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

  logFile(service: Service): string {
    return join(this.addresses.stackDir, `logs/${service}.log`);
  }

  /** Stops everything; then removes the STACK_DIR it created unless `keepDir` (kept if `down` failed). */
  async dispose({ keepDir = false } = {}): Promise<void> {
    await this.down();
    if (this.ownsDir && !keepDir) rmSync(this.addresses.stackDir, { recursive: true, force: true });
  }
}
