// Usage: tsx tools/report-cli.ts [--json] [--allow-repeated-updates]
// Exit code: 0 consistent, 1 inconsistent, 2 the check itself failed (bad flag, database unreachable).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildReport } from './report.js';
import { formatReport } from './report-format.js';

const holviUrl = process.env.HOLVI_DATABASE_URL || 'postgres://holvi_app:holvi_app@127.0.0.1:55432/holvi';
const expenzyUrl = process.env.EXPENZY_DATABASE_URL || 'postgres://expenzy:expenzy@127.0.0.1:55432/expenzy';

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
