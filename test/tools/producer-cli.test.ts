import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakes, type Fakes } from './producer-fakes.js';

const root = new URL('../../', import.meta.url).pathname;

function runProducer(env: Record<string, string>, ...args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'npx',
      ['tsx', 'expenzy/producer-cli.ts', ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

let fakes: Fakes;
beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => fakes.close());

describe('producer CLI', () => {
  it('runs with flags over the environment and prints the summary', async () => {
    fakes.holviAnswer = (hit) => (hit === 1 ? 503 : 200);
    const env = {
      EXPENZY_API_BASE_URL: fakes.expenzyBaseUrl,
      HOLVI_API_BASE_URL: fakes.holviBaseUrl,
      GENERATION_ATTEMPTS: '1',
    };

    const run = await runProducer(env, '--attempts', '3', '--concurrency', '2', '--sleep', '0');

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Payouts created\s+3 of 3\n/);
    expect(run.stdout).toMatch(/Webhooks sent \(2xx\)\s+2\n/);
    expect(run.stdout).toMatch(/Webhooks failed\s+1\n/);
    expect(run.stdout).toMatch(/Webhooks dropped on purpose\s+0\n/);
    expect(run.stdout).toMatch(/Creation rate\s+[\d.]+ payouts\/s/);
    expect(run.stderr).toContain('webhook failed, not retried');
    expect(fakes.timeline.created).toHaveLength(3);
  });

  it('exits 2 naming the bad variable', async () => {
    const run = await runProducer({ CONCURRENCY: 'many' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('producer: CONCURRENCY must be a whole number from 1 to 10000, got "many"');
    expect(fakes.timeline.created).toHaveLength(3);
  });

  it('exits 1 when the simulator cannot create payouts', async () => {
    const run = await runProducer({ EXPENZY_API_BASE_URL: fakes.expenzyBaseUrl.replace(/:\d+$/, ':1') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/producer: payout creation failed: .*ECONNREFUSED/);
  });
});
