import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExpenzyDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../../tools/stack/ports.js';

const root = new URL('../../', import.meta.url).pathname;

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition() && Date.now() < deadline;) await sleep(50);
}

describe('expenzy/server.ts', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createExpenzyDatabase();
  });
  afterAll(() => db?.drop());

  it('migrates, serves with JSON logs, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    // One process (no tsx wrapper), so the signal reaches the server itself.
    const server = spawn(process.execPath, ['--import', 'tsx', 'expenzy/server.ts'], {
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

    try {
      await until(() => logs.includes('Expenzy simulator ready') || server.exitCode !== null);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/admin/payouts`, { method: 'POST' })).status).toBe(200);
      const count = await fetch(`${base}/api/transaction/count`);
      expect(await count.json()).toMatchObject({ total_num_transactions: 1 });

      server.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }

    const lines = logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.find((line) => line.msg === 'Expenzy simulator ready')).toMatchObject({
      knobs: { seed: 2026, failureRate: 0.05 },
      adminEnabled: true,
    });
    expect(lines.at(-1)).toMatchObject({ msg: 'shutting down', signal: 'SIGTERM' });
  });
});
