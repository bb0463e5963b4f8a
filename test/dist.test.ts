import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildExpenzyApp } from '../expenzy/app.js';
import { migrateExpenzy } from '../expenzy/db.js';
import { Knobs } from '../expenzy/knobs.js';
import { freePorts } from '../tools/stack/ports.js';
import {
  createExpenzyDatabase,
  createHolviDatabase,
  type TestDatabase,
  testPool,
} from './support/databases.js';
import { kitExpressions, metricNamesIn, servedMetricNames } from './support/ops.js';

// The production build as the image runs it: `npm run build`, then the migrate step, the API and
// the worker started with plain `node` from dist/ (no tsx, the workflow bundle prebuilt), reaching
// Temporal through a temporal.toml profile, syncing payouts from the simulator, stopping on SIGTERM.

const root = new URL('../', import.meta.url).pathname;
const run = promisify(execFile);

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(file: string, env: NodeJS.ProcessEnv): Service {
  const child = spawn(process.execPath, [`${root}${file}`], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(what: string, check: () => Promise<boolean>, service?: Service, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (service && service.child.exitCode !== null) throw new Error(`${what}: exited\n${service.output()}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms\n${service?.output() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ok = (url: string) => async () => (await fetch(url)).ok;

describe('the production build (dist/)', () => {
  let holvi: TestDatabase;
  let expenzy: TestDatabase;
  let expenzyPool: pg.Pool;
  let simulator: ReturnType<typeof buildExpenzyApp>;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let apiUrl: string;
  let workerUrl: string;
  const services: Service[] = [];

  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: root, timeout: 240_000 });
    holvi = await createHolviDatabase({ migrate: false });
    expenzy = await createExpenzyDatabase();
    expenzyPool = testPool(expenzy.ownerUrl, 4);
    await migrateExpenzy(expenzyPool);
    simulator = buildExpenzyApp({
      pool: expenzyPool,
      knobs: new Knobs({ failureRate: 0 }, { seed: 7 }),
      adminEnabled: true,
    });
    const expenzyUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });

    dir = mkdtempSync(join(tmpdir(), 'dist-test-'));
    writeFileSync(
      join(dir, 'temporal.toml'),
      `[profile.suite]\naddress = "${inject('temporalAddress')}"\nnamespace = "default"\n`,
    );
    const [apiPort, metricsPort, sdkMetricsPort] = await freePorts(3);
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const inherited = { ...process.env };
    for (const name of Object.keys(inherited))
      if (/^(TEMPORAL_|HOLVI_|EXPENZY_|NODE_OPTIONS$)/.test(name)) delete inherited[name];
    env = {
      ...inherited,
      NODE_ENV: 'production',
      HOLVI_DATABASE_URL: holvi.appUrl,
      EXPENZY_API_BASE_URL: expenzyUrl,
      TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml'),
      TEMPORAL_PROFILE: 'suite',
      TEMPORAL_TASK_QUEUE: `dist-${suffix}`,
      SYNC_WORKFLOW_ID: `dist-${suffix}`,
      HOLVI_API_PORT: String(apiPort),
      WORKER_METRICS_PORT: String(metricsPort),
      WORKER_SDK_METRICS_PORT: String(sdkMetricsPort),
      RECONCILE_INTERVAL: '2s',
    };
    apiUrl = `http://127.0.0.1:${apiPort}`;
    workerUrl = `http://127.0.0.1:${metricsPort}`;
  }, 300_000);

  afterAll(async () => {
    for (const service of services) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    await simulator?.close();
    await expenzyPool?.end();
    await holvi?.drop();
    await expenzy?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds compiled entrypoints, the prebuilt workflow bundle and the migrations', () => {
    for (const file of [
      'dist/src/api/server.js',
      'dist/src/worker/main.js',
      'dist/src/db/migrate-cli.js',
      'dist/expenzy/server.js',
      'dist/config/ports.json',
      'dist/tools/report/cli.js',
      'dist/tools/replay.js',
      'dist/workflow-bundle.js',
    ]) {
      expect(existsSync(`${root}${file}`), file).toBe(true);
    }
    expect(existsSync(`${root}dist/migrations`)).toBe(true);
  });

  it('the API refuses to start on a schema that is behind, naming the command', async () => {
    const api = start('dist/src/api/server.js', env);
    services.push(api);
    expect(await api.exited).toBe(1);
    expect(api.output()).toContain("'make setup'");
    expect(api.output()).toContain('not applied');
  });

  it('migrates with the owner role, then API and worker start from dist/ through the profile and sync', async () => {
    const migrate = start('dist/src/db/migrate-cli.js', {
      ...env,
      HOLVI_MIGRATION_DATABASE_URL: holvi.ownerUrl,
    });
    expect(await migrate.exited, migrate.output()).toBe(0);

    const worker = start('dist/src/worker/main.js', env);
    const api = start('dist/src/api/server.js', env);
    services.push(worker, api);
    await until('worker /healthz', ok(`${workerUrl}/healthz`), worker);
    await until('API /readyz', ok(`${apiUrl}/readyz`), api);
    expect(worker.output()).toContain('"profile":"suite"');
    expect(worker.output()).not.toMatch(/webpack|workflow-bundle-[0-9a-f]+\.js/); // no bundling at start

    const created = await fetch(`${simulator.listeningOrigin}/admin/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 20 }),
    });
    expect(created.status).toBe(200);
    expect((await fetch(`${apiUrl}/expenzy/webhook/`)).status).toBe(200);
    await until(
      '20 payouts recorded',
      async () => (await (await fetch(`${apiUrl}/payout/count`)).text()) === '20',
      api,
    );

    // The operations kit queries only metrics these processes serve (histograms by their _bucket).
    const served = servedMetricNames(
      (await (await fetch(`${workerUrl}/metrics`)).text()) +
        (await (await fetch(`${apiUrl}/metrics`)).text()),
    );
    const missing = [...new Set(kitExpressions().flatMap(metricNamesIn))].filter((name) => !served.has(name));
    expect(missing, 'named in ops/ but not served by a running worker or API').toEqual([]);

    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    expect(await api.exited, api.output()).toBe(0);
    expect(worker.output()).toContain('worker stopped');
  });
});
