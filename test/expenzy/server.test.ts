import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenzyDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/free-port.js';

const root = new URL('../../', import.meta.url).pathname;

describe('expenzy/server.ts', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createExpenzyDatabase();
  });
  afterAll(() => db?.drop());

  it('migrates, serves with JSON logs, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const server = spawn(`${root}node_modules/.bin/tsx`, ['expenzy/server.ts'], {
      cwd: root,
      env: {
        ...process.env,
        EXPENZY_DATABASE_URL: db.ownerUrl,
        EXPENZY_PORT: String(port),
        EXPENZY_ADMIN_ENABLED: 'true',
        EXPENZY_SEED: '2026',
        LOG_LEVEL: 'info',
      },
    });
    let logs = '';
    server.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    const exited = once(server, 'exit');

    const base = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100 && !logs.includes('Expenzy simulator ready'); attempt++) await sleep(100);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/admin/payouts`, { method: 'POST' })).status).toBe(200);
    expect(await (await fetch(`${base}/api/transaction/count`)).json()).toMatchObject({ total_num_transactions: 1 });

    server.kill('SIGTERM');
    const [code] = await exited;

    expect(code).toBe(0);
    const ready = logs
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((line) => line.msg === 'Expenzy simulator ready');
    expect(ready).toMatchObject({ knobs: { seed: 2026, failureRate: 0.05 }, adminEnabled: true });
  });

  it('refuses to start on a bad variable and names it', async () => {
    const server = spawn(`${root}node_modules/.bin/tsx`, ['expenzy/server.ts'], {
      cwd: root,
      env: { ...process.env, EXPENZY_DATABASE_URL: db.ownerUrl, EXPENZY_FAILURE_RATE: 'lots' },
    });
    let errors = '';
    server.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const [code] = await once(server, 'exit');
    expect(code).not.toBe(0);
    expect(errors).toContain('EXPENZY_FAILURE_RATE');
  });
});
