import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import {
  NativeConnection,
  bundleWorkflowCode,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { inject } from 'vitest';
import { buildExpenzyApp } from '../../expenzy/app.js';
import { migrateExpenzy } from '../../expenzy/db.js';
import { Knobs, type KnobSettings } from '../../expenzy/knobs.js';
import { buildApp } from '../../src/api/app.js';
import { createSyncClient } from '../../src/temporal/sync-client.js';
import { loadConfig, type Config } from '../../src/config.js';
import { expenzyClientFromConfig, type ExpenzyClient } from '../../src/partner/expenzy-client.js';
import { statusQuery, type SyncStatus } from '../../src/workflows/sync-contract.js';
import { SyncFence } from '../../src/fence/sync-fence.js';
import { activityDependencies, createSyncWorker, workflowsPath } from '../../src/worker/create-worker.js';
import { buildReport, type Report } from '../../tools/report/index.js';
import { createExpenzyDatabase, createHolviDatabase, testPool } from './databases.js';

/**
 * The whole integration on real parts, one per test file: fresh Holvi and Expenzy databases,
 * the Expenzy simulator over HTTP, the Temporal dev server (shared, with a task queue and
 * workflow id of this file's own), an in-process worker and the Holvi API.
 */
export interface SyncStack {
  config: Config;
  knobs: Knobs;
  expenzyUrl: string;
  api: FastifyInstance;
  apiUrl: string;
  client: Client;
  holviPool: pg.Pool;
  expenzyPool: pg.Pool;
  partner: ExpenzyClient;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  createPayouts(count: number, options?: { malformed?: string }): Promise<string[]>;
  webhook(): Promise<number>;
  status(): Promise<SyncStatus>;
  report(options?: { allowRepeatedUpdates?: boolean }): Promise<Report>;
  waitUntilConsistent(timeoutMs?: number, options?: { allowRepeatedUpdates?: boolean }): Promise<Report>;
  /** Polls the report until `done` holds (or the time is up) and returns the last one. */
  waitUntil(
    done: (report: Report) => boolean,
    timeoutMs?: number,
    allowRepeatedUpdates?: boolean,
  ): Promise<Report>;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const workflowBundle = () => (bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger }));
const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

export interface SyncStackOptions {
  knobs?: Partial<KnobSettings>;
  env?: Record<string, string>;
  /** Start the worker at once (default true). */
  worker?: boolean;
  /** Wraps the worker's partner client, to inject faults the simulator has no knob for. */
  partner?: (real: ExpenzyClient) => ExpenzyClient;
}

export async function startSyncStack(options: SyncStackOptions = {}): Promise<SyncStack> {
  const holvi = await createHolviDatabase();
  const expenzy = await createExpenzyDatabase();
  const expenzyPool = testPool(expenzy.ownerUrl, 10);
  await migrateExpenzy(expenzyPool);
  const knobs = new Knobs({ failureRate: 0, ...options.knobs }, { seed: 42 });
  const simulator = buildExpenzyApp({ pool: expenzyPool, knobs, adminEnabled: true });
  const expenzyUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });

  const suffix = randomBytes(4).toString('hex');
  const config = loadConfig({
    HOLVI_DATABASE_URL: holvi.appUrl,
    HOLVI_MIGRATION_DATABASE_URL: holvi.ownerUrl,
    EXPENZY_API_BASE_URL: expenzyUrl,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `expenzy-sync-${suffix}`,
    SYNC_WORKFLOW_ID: `expenzy-sync-${suffix}`,
    RECONCILE_INTERVAL: '2s',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const holviPool = testPool(holvi.appUrl, 10);
  const partner = expenzyClientFromConfig(config);
  const client = new Client({ connection: await Connection.connect({ address: config.TEMPORAL_ADDRESS }) });
  const temporal = createSyncClient(config);
  const api = await buildApp({ config, pool: holviPool, sync: temporal });
  const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });

  let worker:
    { instance: Worker; running: Promise<void>; connection: NativeConnection; fence: SyncFence } | undefined;
  const reportOnce = (allowRepeatedUpdates = false) =>
    buildReport({ holviPool, expenzyPool, allowRepeatedUpdates });

  const stack: SyncStack = {
    config,
    knobs,
    expenzyUrl,
    api,
    apiUrl,
    client,
    holviPool,
    expenzyPool,
    partner,
    async startWorker() {
      const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
      const fence = new SyncFence({
        connectionString: holvi.appUrl,
        callTimeoutMs: config.EXPENZY_CALL_TIMEOUT,
      });
      const instance = await createSyncWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        dependencies: activityDependencies(config, {
          pool: holviPool,
          expenzy: options.partner ? options.partner(partner) : partner,
          fence,
        }),
        workflowBundle: await workflowBundle(),
      });
      worker = { instance, running: instance.run(), connection, fence };
    },
    async stopWorker() {
      if (!worker) return;
      worker.instance.shutdown();
      await worker.running;
      await worker.connection.close();
      await worker.fence.close();
      worker = undefined;
    },
    async createPayouts(count, extra = {}) {
      const ids: string[] = [];
      for (let left = count; left > 0; left -= 1000) {
        const response = await fetch(`${expenzyUrl}/admin/payouts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ count: Math.min(left, 1000), ...extra }),
        });
        if (!response.ok) throw new Error(`creating payouts: ${response.status} ${await response.text()}`);
        ids.push(...((await response.json()) as { id: string }[]).map((payout) => payout.id));
      }
      return ids;
    },
    async webhook() {
      const response = await api.inject({ method: 'GET', url: '/expenzy/webhook/' });
      return response.statusCode;
    },
    status: () => client.workflow.getHandle(config.SYNC_WORKFLOW_ID).query(statusQuery),
    report: (reportOptions) => reportOnce(reportOptions?.allowRepeatedUpdates),
    waitUntilConsistent: (timeoutMs = 30_000, reportOptions = {}) =>
      stack.waitUntil((report) => report.consistent, timeoutMs, reportOptions.allowRepeatedUpdates),
    async waitUntil(done, timeoutMs = 30_000, allowRepeatedUpdates = false) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const report = await reportOnce(allowRepeatedUpdates);
        if (done(report) || Date.now() > deadline) return report;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async stop() {
      await stack.stopWorker();
      await client.workflow
        .getHandle(config.SYNC_WORKFLOW_ID)
        .terminate('test finished')
        .catch(() => undefined);
      await client.connection.close();
      await api.close();
      await temporal.close();
      await simulator.close();
      await partner.close();
      await holviPool.end();
      await expenzyPool.end();
      await holvi.drop();
      await expenzy.drop();
    },
  };
  if (options.worker !== false) await stack.startWorker();
  return stack;
}
