import type { Percentiles } from './latency.js';
import type { Report } from './report.js';

const row = (label: string, value: string | number, width = 44) =>
  `  ${label.padEnd(width)} ${String(value).padStart(8)}`;

const latencyColumns = (label: string, count: string, values: string[]) =>
  `  ${label.padEnd(34)} ${count.padStart(8)}${values.map((value) => value.padStart(10)).join('')}`;

const latencyRow = (label: string, p: Percentiles | null) =>
  p
    ? latencyColumns(
        label,
        String(p.count),
        [p.p50, p.p95, p.p99, p.max].map((ms) => ms.toFixed(1)),
      )
    : latencyColumns(label, '-', []);

/** The report as a table for a terminal, db_check style: figures first, then one line per check. */
export function formatReport(report: Report): string {
  const { expenzy, updates } = report;
  const lines = [
    'Expenzy / Holvi consistency report',
    '',
    row('Holvi rows', report.holviRows),
    row('Expenzy total', expenzy.total),
    row('Expenzy processing', expenzy.processing),
    row('Expenzy notifying', expenzy.notifying),
    row('Expenzy error', expenzy.error),
    row('Expenzy malformed (simulator fault)', expenzy.malformed),
    row('Rejected by Holvi (quarantine rows)', report.rejectedRows),
    row('  of which error at Expenzy', report.rejectedErrorAtPartner),
    row('Quarantined, expected absent from Holvi', report.quarantined),
    row('Max update count', updates.max),
    row('Updates beyond one', updates.beyondOne),
    '',
    ...report.checks.map((check) => {
      const line = `${row(check.label, check.figure)}  ${check.status}`;
      return check.status !== 'OK' && check.sample?.length
        ? `${line}  first: ${check.sample.join(', ')}`
        : line;
    }),
    '',
    latencyColumns('Latency from Expenzy create_time', 'count', ['p50 ms', 'p95 ms', 'p99 ms', 'max ms']),
    latencyRow('to Holvi received_at', report.latencyMs.toReceived),
    latencyRow('to processing confirmed', report.latencyMs.toConfirmed),
    '',
    `Result: ${report.consistent ? 'CONSISTENT' : 'INCONSISTENT'}`,
  ];
  return lines.join('\n');
}
