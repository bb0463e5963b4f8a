import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { childrenOf } from './proc.js';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;

/** Where the bench's own stack runs: never the defaults of `make up` (others use those). */
export interface StackPorts {
  pg: number;
  temporal: number;
  temporalUi: number;
  expenzy: number;
  api: number;
  workerMetrics: number;
}

/** Databases someone else provides (the test suite's); PostgreSQL is then not started. */
export interface ExternalDatabases {
  holviOwnerUrl: string;
  holviAppUrl: string;
  expenzyUrl: string;
}

export interface StackSettings {
  dir: string;
  ports: StackPorts;
  /** What the services inherit: failure rate, seed, batch size, parallelism, log level… */
  serviceEnv: Record<string, string>;
  databases?: ExternalDatabases;
  /** A Temporal server someone else runs; `ports.temporal` is then ignored. */
  temporalAddress?: string;
}

/**
 * scripts/stack.sh driven from the bench: PostgreSQL, Temporal and the simulator stay up for
 * the whole run; the worker and the API are started per pipeline case (with a workflow id of
 * that case's own) and stopped for the baseline's cases.
 */
export class BenchStack {
  readonly holviOwner: pg.Pool;
  readonly holviApp: pg.Pool;
  readonly expenzyOwner: pg.Pool;

  readonly databases: ExternalDatabases;

  constructor(readonly settings: StackSettings) {
    const url = (user: string, db: string) =>
      `postgres://${user}:${user}@127.0.0.1:${settings.ports.pg}/${db}`;
    this.databases = settings.databases ?? {
      holviOwnerUrl: url('holvi_owner', 'holvi'),
      holviAppUrl: url('holvi_app', 'holvi'),
      expenzyUrl: url('expenzy', 'expenzy'),
    };
    this.holviOwner = new pg.Pool({ connectionString: this.databases.holviOwnerUrl, max: 3 });
    this.holviApp = new pg.Pool({ connectionString: this.databases.holviAppUrl, max: 3 });
    this.expenzyOwner = new pg.Pool({ connectionString: this.databases.expenzyUrl, max: 3 });
    // An idle client whose server went away (a restart, the end of the run) is dropped quietly.
    for (const pool of [this.holviOwner, this.holviApp, this.expenzyOwner]) pool.on('error', () => undefined);
  }

  /** The services this stack runs itself, in start order. */
  get services(): string {
    return [
      this.settings.databases ? '' : 'postgres',
      this.settings.temporalAddress ? '' : 'temporal',
      'migrate expenzy worker api',
    ]
      .filter(Boolean)
      .join(' ');
  }

  get expenzyUrl(): string {
    return `http://127.0.0.1:${this.settings.ports.expenzy}`;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.settings.ports.api}`;
  }

  get temporalAddress(): string {
    return this.settings.temporalAddress ?? `127.0.0.1:${this.settings.ports.temporal}`;
  }

  /** The environment stack.sh and the services see (also what the baseline process reads). */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const { dir, ports, serviceEnv, databases } = this.settings;
    const inherited = { ...process.env };
    // The caller's addresses would point the services at someone else's stack.
    for (const name of [
      'HOLVI_DATABASE_URL',
      'HOLVI_MIGRATION_DATABASE_URL',
      'EXPENZY_DATABASE_URL',
      'EXPENZY_API_BASE_URL',
      'HOLVI_API_BASE_URL',
    ]) {
      delete inherited[name];
    }
    return {
      ...inherited,
      STACK_DIR: dir,
      PGPORT: String(ports.pg),
      TEMPORAL_ADDRESS: this.temporalAddress,
      STACK_TEMPORAL_UI_PORT: String(ports.temporalUi),
      EXPENZY_PORT: String(ports.expenzy),
      HOLVI_API_PORT: String(ports.api),
      WORKER_METRICS_PORT: String(ports.workerMetrics),
      EXPENZY_ADMIN_ENABLED: 'true',
      STACK_STOP_GRACE: '5',
      ...(databases
        ? {
            HOLVI_DATABASE_URL: databases.holviAppUrl,
            HOLVI_MIGRATION_DATABASE_URL: databases.holviOwnerUrl,
            EXPENZY_DATABASE_URL: databases.expenzyUrl,
          }
        : {}),
      ...serviceEnv,
      ...extra,
    };
  }

  async sh(args: string[], extra: Record<string, string> = {}): Promise<string> {
    try {
      const { stdout } = await run('bash', [join(root, 'scripts/stack.sh'), ...args], {
        env: this.env(extra),
        timeout: 180_000,
      });
      return stdout;
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `stack.sh ${args.join(' ')} failed: ${failed.stderr || failed.stdout || failed.message}`,
      );
    }
  }

  /** PostgreSQL, Temporal, migrations and the simulator. */
  async up(): Promise<void> {
    await this.sh(['up'], { STACK_SERVICES: this.services.replace(' worker api', '') });
  }

  /** Everything this stack runs, PostgreSQL included (not what someone else provides). */
  async down(): Promise<void> {
    // Pools first: PostgreSQL stopping under an idle client would raise an unhandled 'error'.
    await Promise.allSettled([this.holviOwner.end(), this.holviApp.end(), this.expenzyOwner.end()]);
    await this.sh(['down'], { STACK_SERVICES: this.services });
  }

  /**
   * A fresh simulator: its seeded generator starts over, so the same faults come in the same
   * order; its call counts start at 0. `failureRate` overrides EXPENZY_FAILURE_RATE for this start.
   */
  async restartSimulator(failureRate?: number): Promise<void> {
    await this.sh(
      ['restart', 'expenzy'],
      failureRate === undefined ? {} : { EXPENZY_FAILURE_RATE: String(failureRate) },
    );
  }

  async startPipeline(workflowId: string): Promise<void> {
    await this.sh(['start', 'worker'], { SYNC_WORKFLOW_ID: workflowId });
    await this.sh(['start', 'api'], { SYNC_WORKFLOW_ID: workflowId });
  }

  async stopPipeline(): Promise<void> {
    await this.sh(['stop', 'api']);
    await this.sh(['stop', 'worker']);
  }

  /** Empties both sides: Holvi's tables (as their owner; the service role may not) and Expenzy's. */
  async truncate(): Promise<void> {
    // Every holvi_ table but the fence's row and the migrations' bookkeeping, then fresh statistics:
    // each run starts from the same database, whatever ran before it.
    await this.holviOwner.query(
      `TRUNCATE holvi_received_payout, holvi_rejected_payout, holvi_sync_pass, holvi_pass_payout,
                holvi_pass_rejected, holvi_pass_settle RESTART IDENTITY`,
    );
    await this.holviOwner.query('ANALYZE');
    await this.expenzyOwner.query('TRUNCATE expenzy_transaction');
  }

  /** The pid stack.sh recorded for a service (its process group leader: the service itself). */
  pid(service: 'worker' | 'api' | 'expenzy' | 'temporal'): number | undefined {
    const file = join(this.settings.dir, 'pids', `${service}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && existsSync(`/proc/${pid}`) ? pid : undefined;
  }

  /** The postmaster and its children (backends, checkpointer, WAL writer…). */
  postgresPids(): number[] {
    const file = join(this.settings.dir, 'postgres/data/postmaster.pid');
    if (!existsSync(file)) return [];
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && existsSync(`/proc/${pid}`) ? [pid, ...childrenOf(pid)] : [];
  }
}
