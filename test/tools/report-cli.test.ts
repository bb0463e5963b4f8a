import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../tools/report/index.js';
import {
  createReportDatabases,
  insertAtExpenzy,
  insertAtHolvi,
  partnerPayout,
  type ReportDatabases,
} from './report-fixtures.js';

const root = new URL('../../', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runReport(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npx',
      ['tsx', 'tools/report/cli.ts', ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

let dbs: ReportDatabases;
let env: Record<string, string>;
beforeAll(async () => {
  dbs = await createReportDatabases();
  env = { HOLVI_DATABASE_URL: dbs.holvi.appUrl, EXPENZY_DATABASE_URL: dbs.expenzy.ownerUrl };
});
afterAll(async () => dbs.close());

describe('report CLI', () => {
  it('exits 0 and prints the db_check figures when consistent', async () => {
    const payout = partnerPayout();
    await insertAtExpenzy(dbs.expenzyPool, payout);
    await insertAtHolvi(dbs.holviOwner, payout);

    const run = await runReport(env);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Holvi rows\s+1\n/);
    expect(run.stdout).toMatch(/Expenzy total\s+1\n/);
    expect(run.stdout).toMatch(/Expenzy processing\s+1\n/);
    expect(run.stdout).toMatch(/Max update count\s+1\n/);
    expect(run.stdout).toMatch(/Holvi vs Expenzy total \(expected 1\)\s+0 {2}OK/);
    expect(run.stdout).toMatch(/Holvi vs Expenzy processing\s+0 {2}OK/);
    expect(run.stdout).toContain('Result: CONSISTENT');
  });

  it('exits 1 and prints the report as JSON with --json when inconsistent', async () => {
    const missing = partnerPayout({ state: 'notifying', updateCount: 0 });
    await insertAtExpenzy(dbs.expenzyPool, missing);

    const run = await runReport(env, '--json');

    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report).toMatchObject({
      consistent: false,
      holviRows: 1,
      expenzy: { total: 2, processing: 1 },
      difference: { total: -1, processing: 0 },
      problems: { missing: { count: 1, first: [missing.id] } },
    });
    expect(report.checks.find((check) => check.key === 'missing')).toMatchObject({
      figure: 1,
      status: 'FAIL',
    });
    expect(typeof report.latencyMs.toReceived?.p99).toBe('number');
  });

  it('exits 2 when a database is unreachable', async () => {
    const run = await runReport({
      ...env,
      EXPENZY_DATABASE_URL: 'postgres://expenzy:expenzy@127.0.0.1:1/expenzy',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^report: .*ECONNREFUSED/m);
    expect(run.stdout).toBe('');
  });

  it('exits 2 on an unknown flag', async () => {
    const run = await runReport(env, '--jsn');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--jsn'");
  });
});
