import type { ScenarioResult } from './runner.js';

/** The `make chaos` table: one row per scenario, then the details of each (figures, failed checks). */

const columns: [title: string, width: number, value: (r: ScenarioResult) => string][] = [
  ['scenario', 22, (r) => r.name],
  ['payouts', 7, (r) => String(r.payouts)],
  ['faults injected', 48, (r) => r.faultSummary || '-'],
  ['dup', 4, (r) => figure(r.duplicates)],
  ['missing', 7, (r) => figure(r.missing)],
  ['mismatch', 8, (r) => figure(r.mismatches)],
  ['upd>1', 5, (r) => figure(r.updatesBeyondOne)],
  ['converge', 8, (r) => (r.convergeSeconds === null ? 'never' : `${r.convergeSeconds.toFixed(1)}s`)],
  ['result', 6, (r) => (r.passed ? 'PASS' : 'FAIL')],
];

const figure = (value: number | null) => (value === null ? '?' : String(value));

/** Text cut into lines of at most `width`, at '; ' first, then at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const part of text.split('; ')) {
    let current = '';
    for (const word of part.split(' ')) {
      if (current && current.length + 1 + word.length > width) {
        lines.push(current);
        current = word;
      } else current = current ? `${current} ${word}` : word;
    }
    lines.push(current);
  }
  return lines;
}

const numericColumns = new Set(['payouts', 'dup', 'missing', 'mismatch', 'upd>1', 'converge']);

export function formatTable(results: ScenarioResult[]): string {
  const pad = (text: string, i: number) =>
    numericColumns.has(columns[i]![0]) ? text.padStart(columns[i]![1]) : text.padEnd(columns[i]![1]);
  const line = (values: string[]) => values.map(pad).join('  ').trimEnd();
  const header = line(columns.map(([title]) => title));
  const rows = results.flatMap((result) => {
    const cells = columns.map(([, width, value]) => wrap(value(result), width));
    const height = Math.max(...cells.map((lines) => lines.length));
    return Array.from({ length: height }, (_, row) => line(cells.map((lines) => lines[row] ?? '')));
  });
  const passed = results.filter((result) => result.passed).length;
  return [
    header,
    '-'.repeat(header.length),
    ...rows,
    '',
    `${passed}/${results.length} scenarios passed`,
  ].join('\n');
}

export function formatDetails(results: ScenarioResult[]): string {
  const blocks = results.map((result) => {
    const lines = [`${result.name} — ${result.title} (${result.totalSeconds}s in all)`];
    if (result.faultSummary) lines.push(`  faults: ${result.faultSummary}`);
    for (const fault of result.faults)
      lines.push(
        `    at ${(fault.atMs / 1000).toFixed(1)}s ${fault.detail}${fault.downMs === undefined ? '' : ` (${(fault.downMs / 1000).toFixed(1)}s)`}`,
      );
    const figures = Object.entries(result.figures).map(([key, value]) => `${key}=${value}`);
    if (figures.length) lines.push(`  figures: ${figures.join(', ')}`);
    if (result.maxUpdateCount !== null) lines.push(`  max update count: ${result.maxUpdateCount}`);
    for (const check of result.checks)
      lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}${check.detail ? ` (${check.detail})` : ''}`);
    if (result.error) lines.push(`  ERROR ${result.error.split('\n').slice(0, 6).join('\n        ')}`);
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}
