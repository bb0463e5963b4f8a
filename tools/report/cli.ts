// Usage: tsx tools/report/cli.ts [--json] [--allow-repeated-updates]   (make report)
// Exit code: 0 consistent, 1 inconsistent, 2 the check itself failed (bad flag, database unreachable).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { defaultPorts } from '../../config/ports.js';
import { buildReport, formatReport } from './index.js';

const local = (role: string) => `postgres://${role}:${role}@127.0.0.1:${defaultPorts.postgres}`;
const holviUrl = process.env.HOLVI_DATABASE_URL || `${local('holvi_app')}/holvi`;
const expenzyUrl = process.env.EXPENZY_DATABASE_URL || `${local('expenzy')}/expenzy`;

const pool = (connectionString: string) =>
  new pg.Pool({ connectionString, max: 1, connectionTimeoutMillis: 5_000 });

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, 'allow-repeated-updates': { type: 'boolean' } },
  });
  const holviPool = pool(holviUrl);
  const expenzyPool = pool(expenzyUrl);
  try {
    const report = await buildReport({
      holviPool,
      expenzyPool,
      allowRepeatedUpdates: values['allow-repeated-updates'] ?? false,
    });
    process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
    return report.consistent ? 0 : 1;
  } finally {
    await Promise.all([holviPool.end(), expenzyPool.end()]);
  }
}

process.exitCode = await main().catch((error: Error) => {
  process.stderr.write(`report: ${error.message}\n`);
  return 2;
});
