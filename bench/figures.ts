import { colors, type Panel, type Series } from './chart.js';
import type { RunResult } from './cases.js';
import { pipelineNames, type PipelineName } from './options.js';
import type { BenchResult, CaseResult, TargetCheck } from './result.js';
import { median } from './stats.js';

/** The results as a terminal table (pipelines side by side, with the ratio) and as chart panels. */

/** 100000 → "100,000". */
export const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

interface Row {
  label: string;
  /** A figure's name, or OF_CEILING: the pipeline's throughput ÷ the ceiling's. */
  key: string;
  digits: number;
  /** Print temporal/direct for this row. */
  ratio?: boolean;
  /** A Temporal-only figure: no baseline column. */
  temporalOnly?: boolean;
}

const OF_CEILING = '÷ceiling';

const throughputRows: Row[] = [
  { label: 'payouts/s (ceiling: updates/s)', key: 'payoutsPerSecond', digits: 0, ratio: true },
  { label: 'payouts/s ÷ the ceiling', key: OF_CEILING, digits: 2 },
];

const callRows: Row[] = [
  { label: 'partner list calls', key: 'listCalls', digits: 0, ratio: true },
  { label: 'partner update calls', key: 'updateCalls', digits: 0, ratio: true },
  { label: 'update calls answered 5xx', key: 'updateCallsFailed', digits: 0 },
];

const drainRows: Row[] = [
  { label: 'drain time (s)', key: 'drainSeconds', digits: 2, ratio: true },
  ...throughputRows,
  { label: 'time to all recorded (s)', key: 'allRecordedSeconds', digits: 2, ratio: true },
  { label: 'time to first recorded (s)', key: 'firstRecordedSeconds', digits: 2, ratio: true },
  { label: 'webhook → first update at the partner (s)', key: 'firstUpdateSeconds', digits: 2, ratio: true },
  ...callRows,
  { label: 'RSS of the sync process at start (MiB)', key: 'startRssMiB', digits: 0, ratio: true },
  { label: 'peak RSS of the sync process (MiB)', key: 'peakRssMiB', digits: 0, ratio: true },
];

const streamRows: Row[] = [
  { label: 'producer rate (payouts/s)', key: 'creationRatePerSecond', digits: 1 },
  { label: 'payouts created', key: 'payouts', digits: 0 },
  ...throughputRows,
  { label: 'create→recorded p50 (ms)', key: 'toRecordedP50Ms', digits: 1, ratio: true },
  { label: 'create→recorded p95 (ms)', key: 'toRecordedP95Ms', digits: 1, ratio: true },
  { label: 'create→recorded p99 (ms)', key: 'toRecordedP99Ms', digits: 1, ratio: true },
  { label: 'create→recorded max (ms)', key: 'toRecordedMaxMs', digits: 1, ratio: true },
  { label: 'create→processing p50 (ms)', key: 'toProcessingP50Ms', digits: 1, ratio: true },
  { label: 'create→processing p95 (ms)', key: 'toProcessingP95Ms', digits: 1, ratio: true },
  { label: 'create→processing p99 (ms)', key: 'toProcessingP99Ms', digits: 1, ratio: true },
  { label: 'create→processing max (ms)', key: 'toProcessingMaxMs', digits: 1, ratio: true },
  { label: 'backlog when the producer stopped', key: 'backlogAtStop', digits: 0 },
  { label: 'backlog 1 s later (at end)', key: 'backlogAtEnd', digits: 0 },
  { label: 'largest backlog seen', key: 'maxBacklog', digits: 0 },
  { label: 'backlog trend (payouts/s)', key: 'backlogSlopePerSecond', digits: 2 },
  ...callRows,
  { label: 'peak RSS of the sync process (MiB)', key: 'peakRssMiB', digits: 0, ratio: true },
];

const costRows: Row[] = [
  { label: 'history events / payout', key: 'historyEventsPerPayout', digits: 3, temporalOnly: true },
  { label: 'signals / webhook', key: 'signalsPerWebhook', digits: 3, temporalOnly: true },
  { label: 'activity executions / payout', key: 'activitiesPerPayout', digits: 4, temporalOnly: true },
  { label: 'activity attempts / payout', key: 'activityAttemptsPerPayout', digits: 4, temporalOnly: true },
  { label: 'attempts failed for a timeout', key: 'timedOutAttempts', digits: 0, temporalOnly: true },
  { label: 'workflow tasks', key: 'workflowTasks', digits: 0, temporalOnly: true },
  { label: 'continue-as-new', key: 'continueAsNew', digits: 0, temporalOnly: true },
  { label: 'largest run history (events)', key: 'maxRunHistoryEvents', digits: 0, temporalOnly: true },
  { label: 'largest run history (MiB)', key: 'maxRunHistoryMiB', digits: 2, temporalOnly: true },
  {
    label: 'history bytes / payout (runs whole)',
    key: 'historyBytesPerPayout',
    digits: 0,
    temporalOnly: true,
  },
  { label: 'passes (FetchTransactions runs)', key: 'passes', digits: 0 },
  { label: 'mean activity run (ms)', key: 'activityRunMs', digits: 1, temporalOnly: true },
  {
    label: 'mean activity schedule→start (ms)',
    key: 'activityScheduleToStartMs',
    digits: 1,
    temporalOnly: true,
  },
  { label: 'mean workflow task (ms)', key: 'workflowTaskMs', digits: 1, temporalOnly: true },
  { label: 'mean hop between activities (ms)', key: 'hopBetweenActivitiesMs', digits: 1, temporalOnly: true },
];

const fmt = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);

const line = (cells: string[]) =>
  `${cells[0]!.padEnd(14)}${cells[1]!.padEnd(40)}${cells[2]!.padStart(11)}${cells[3]!.padStart(11)}` +
  `${cells[4]!.padStart(11)}${cells[5]!.padStart(9)}`;

/** A row's cell for one pipeline: '' where the pipeline has no such figure (or did not run). */
function cell(result: CaseResult, pipeline: PipelineName, row: Row): string {
  if (row.temporalOnly && pipeline !== 'temporal') return '';
  if (row.key === OF_CEILING) {
    const value = result.ofCeiling?.[pipeline];
    return value === undefined ? '' : fmt(value, row.digits);
  }
  const figures = result.median[pipeline];
  if (!figures || !(row.key in figures)) return '';
  return fmt(figures[row.key], row.digits);
}

/** Every figure of a case, a row each: case title (first row only), figure, the three pipelines, temporal/direct. */
function figureRows(result: CaseResult): string[][] {
  const rows = [...(result.kind === 'drain' ? drainRows : streamRows), ...costRows];
  return rows.map((row, i) => {
    const r = row.ratio ? result.ratios[row.key] : undefined;
    return [
      i === 0 ? result.title : '',
      row.label,
      cell(result, 'temporal', row),
      cell(result, 'direct', row),
      cell(result, 'ceiling', row),
      row.ratio && r != null ? `${fmt(r, 2)}×` : '',
    ];
  });
}

function caseLines(result: CaseResult): string[] {
  const lines = figureRows(result).map(line);
  for (const pipeline of pipelineNames) {
    const cpu = result.cpuSeconds[pipeline];
    if (!cpu) continue;
    const parts = Object.entries(cpu).map(([name, seconds]) => `${name} ${fmt(seconds, 1)}`);
    lines.push(`${''.padEnd(14)}CPU s, ${pipeline}: ${parts.join(' · ')}`);
  }
  if (!result.consistent) {
    const failed = [...new Set(result.runs.flatMap((run) => run.failedChecks))];
    lines.push(`${''.padEnd(14)}REPORT NOT CONSISTENT: ${failed.join('; ')}`);
  }
  return lines;
}

function settingsLine(result: BenchResult): string {
  const { settings, options } = result;
  const drainRate = settings.drainFailureRate ?? settings.failureRate;
  return (
    `medians of ${options.repeat} run(s) per case and pipeline; stream ${options.streamSeconds} s; ` +
    `failure rate ${drainRate} (drains), ${settings.failureRate} (streams); batch ${settings.fetchBatchSize}; ` +
    `parallel calls ${settings.maxParallelCalls}; seed ${settings.seed}`
  );
}

function machineLine(result: BenchResult): string {
  const { machine } = result;
  return (
    `machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, ` +
    `load average ${machine.loadAverage.join(' ')} at start, ${result.loadAverageAtEnd.join(' ')} at end`
  );
}

const verdict = (t: TargetCheck) => (t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED');
const targetValue = (t: TargetCheck) => fmt(t.value, t.value !== null && Math.abs(t.value) < 10 ? 2 : 0);

export function formatTable(result: BenchResult): string {
  const header = [
    `expenzy-sync bench — ${settingsLine(result)}`,
    machineLine(result),
    '',
    line(['case', 'figure', 'temporal', 'direct', 'ceiling', 't/d']),
    '-'.repeat(96),
  ];
  const body = result.cases.flatMap((c) => [...caseLines(c), '']);
  const targets = [
    'targets',
    ...result.targets.map(
      (t) =>
        `  [${t.met === null ? ' n/a' : t.met ? ' MET' : 'MISS'}] ${t.target}: ${targetValue(t)} (${t.limit})`,
    ),
  ];
  const failures = (result.failures ?? []).map(
    (f) => `  FAILED RUN ${f.case} ${f.pipeline} ${f.repetition}: ${f.error}`,
  );
  return [...header, ...body, ...targets, ...failures].join('\n');
}

/** "median (min–max)" when the runs differ, else the median alone; '–' when missing. */
function spread(result: CaseResult, pipeline: PipelineName, key: string, digits: number): string {
  const mid = result.median[pipeline]?.[key];
  if (mid === undefined || mid === null) return '–';
  const lo = result.min?.[pipeline]?.[key];
  const hi = result.max?.[pipeline]?.[key];
  const text = fmt(mid, digits);
  if (lo == null || hi == null || fmt(lo, digits) === fmt(hi, digits)) return text;
  return `${text} (${fmt(lo, digits)}–${fmt(hi, digits)})`;
}

const mdRow = (cells: string[]) => `| ${cells.join(' | ')} |`;

/**
 * A markdown table of `cases`, a row per pipeline that ran: the case's title on its first row,
 * then `cells`; the header's first two columns left-aligned, the figures right-aligned.
 */
function caseTable(
  cases: CaseResult[],
  header: string[],
  cells: (c: CaseResult, pipeline: PipelineName) => string[],
): string[] {
  if (cases.length === 0) return [];
  const lines = [mdRow(header), mdRow(header.map((_, i) => (i < 2 ? '---' : '---:')))];
  for (const c of cases) {
    pipelineNames
      .filter((pipeline) => c.median[pipeline] !== undefined)
      .forEach((pipeline, i) => lines.push(mdRow([i === 0 ? c.title : '', ...cells(c, pipeline)])));
  }
  return [...lines, ''];
}

/**
 * The markdown for bench/README.md: what ran, a table of the drains and one of the streams
 * (median over the runs, min–max in brackets, every throughput ÷ the ceiling of the same case),
 * the targets, then every figure's median.
 */
export function formatMarkdown(result: BenchResult): string {
  const out: string[] = [];
  const commit = result.git
    ? `${result.git.commit.slice(0, 7)}${result.git.dirty ? ' (with changes)' : ''}`
    : '?';
  out.push(
    `Run of ${result.startedAt.slice(0, 16).replace('T', ' ')}–${(result.finishedAt ?? '').slice(11, 16)} UTC, ` +
      `commit ${commit}: ${settingsLine(result)}. ${machineLine(result)}.`,
    '',
  );
  out.push(
    ...caseTable(
      result.cases.filter((c) => c.kind === 'drain'),
      [
        'drain',
        'pipeline',
        'payouts/s',
        '÷ ceiling',
        'drain time (s)',
        'list calls',
        'update calls',
        'peak RSS (MiB)',
        'history events / payout',
      ],
      (c, pipeline) => [
        pipeline + (c.runs.some((r) => r.pipeline === pipeline && !r.consistent) ? ' (NOT CONSISTENT)' : ''),
        spread(c, pipeline, 'payoutsPerSecond', 0),
        fmt(c.ofCeiling?.[pipeline], 2),
        spread(c, pipeline, 'drainSeconds', 2),
        spread(c, pipeline, 'listCalls', 0),
        spread(c, pipeline, 'updateCalls', 0),
        spread(c, pipeline, 'peakRssMiB', 0),
        spread(c, pipeline, 'historyEventsPerPayout', 3),
      ],
    ),
    ...caseTable(
      result.cases.filter((c) => c.kind !== 'drain'),
      [
        'stream',
        'pipeline',
        'payouts/s',
        '÷ ceiling',
        'create→processing p99 (ms)',
        'create→recorded p99 (ms)',
        'backlog at end',
        'list calls',
        'history events / payout',
      ],
      (c, pipeline) => [
        pipeline === 'ceiling' ? `ceiling (${thousands(c.spec.ceilingN)} updates)` : pipeline,
        spread(c, pipeline, 'payoutsPerSecond', pipeline === 'ceiling' ? 0 : 1),
        fmt(c.ofCeiling?.[pipeline], pipeline === 'ceiling' ? 2 : 3),
        spread(c, pipeline, 'toProcessingP99Ms', 0),
        spread(c, pipeline, 'toRecordedP99Ms', 0),
        spread(c, pipeline, 'backlogAtEnd', 0),
        spread(c, pipeline, 'listCalls', 0),
        spread(c, pipeline, 'historyEventsPerPayout', 3),
      ],
    ),
  );
  if (result.targets.length > 0) {
    out.push(mdRow(['target', 'value', 'limit', '']), mdRow(['---', '---:', '---', '---']));
    for (const t of result.targets) {
      out.push(mdRow([t.target, targetValue(t), t.limit, t.met ? verdict(t) : `**${verdict(t)}**`]));
    }
    out.push('');
  }
  for (const f of result.failures ?? []) {
    out.push(`- FAILED RUN ${f.case} ${f.pipeline} ${f.repetition}: ${f.error}`);
  }
  out.push(
    '<details><summary>every figure (medians)</summary>',
    '',
    formatDetailsMarkdown(result),
    '',
    '</details>',
  );
  return out.join('\n');
}

/** Every figure's median, pipelines side by side, with temporal/direct. */
export function formatDetailsMarkdown(result: BenchResult): string {
  const out = [
    '| case | figure | temporal | direct | ceiling | temporal/direct |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of result.cases) out.push(...figureRows(c).map(mdRow));
  return out.join('\n');
}

/** The run closest to the median of a figure (its curves represent the case in the chart). */
function medianRun(runs: RunResult[], key: string): RunResult | undefined {
  if (runs.length === 0) return undefined;
  const mid = median(runs.map((run) => run.figures[key] ?? 0));
  return runs.reduce((best, run) =>
    Math.abs((run.figures[key] ?? 0) - mid) < Math.abs((best.figures[key] ?? 0) - mid) ? run : best,
  );
}

const pipelineColor = (pipeline: PipelineName) =>
  pipeline === 'temporal' ? colors.temporal : pipeline === 'direct' ? colors.direct : colors.extra;

export function chartFor(result: BenchResult): { heading: string; panels: Panel[] } {
  const panels: Panel[] = [];
  for (const c of result.cases) {
    const series: Series[] = [];
    const pipelines = [...new Set(c.runs.map((run) => run.pipeline))];
    if (c.kind === 'drain') {
      for (const pipeline of pipelines) {
        const run = medianRun(
          c.runs.filter((r) => r.pipeline === pipeline),
          'drainSeconds',
        );
        const toSeconds = (points: [number, number][] = []) =>
          points.map(([ms, count]) => [ms / 1000, count] as [number, number]);
        if (pipeline === 'ceiling') {
          series.push({
            label: `ceiling: updates applied, no Holvi work (${fmt(run?.figures.drainSeconds, 1)} s)`,
            color: pipelineColor(pipeline),
            points: toSeconds(run?.curves.confirmed),
          });
          continue;
        }
        series.push({
          label: `${pipeline}: confirmed processing (${fmt(run?.figures.drainSeconds, 1)} s)`,
          color: pipelineColor(pipeline),
          points: toSeconds(run?.curves.confirmed),
        });
        series.push({
          label: `${pipeline}: recorded`,
          color: pipelineColor(pipeline),
          points: toSeconds(run?.curves.recorded),
          dashed: true,
        });
      }
      panels.push({
        title: `Drain of ${thousands(c.spec.n)} payouts (one webhook)`,
        note: 'payouts done vs time since the webhook (ceiling: since its first call); the run nearest the median',
        xLabel: 'seconds since the webhook',
        yLabel: 'payouts',
        series,
      });
    } else {
      for (const pipeline of pipelines.filter((p) => p !== 'ceiling')) {
        const run = medianRun(
          c.runs.filter((r) => r.pipeline === pipeline),
          'toProcessingP99Ms',
        );
        const asPercent = (points: [number, number][] = []) =>
          points.map(([ms, share]) => [ms, share * 100] as [number, number]);
        series.push({
          label: `${pipeline}: create→processing (p99 ${fmt(run?.figures.toProcessingP99Ms, 0)} ms)`,
          color: pipelineColor(pipeline),
          points: asPercent(run?.curves.toProcessingCdf),
        });
        series.push({
          label: `${pipeline}: create→recorded (p99 ${fmt(run?.figures.toRecordedP99Ms, 0)} ms)`,
          color: pipelineColor(pipeline),
          points: asPercent(run?.curves.toRecordedCdf),
          dashed: true,
        });
      }
      const rate = c.median.temporal?.creationRatePerSecond ?? c.median.direct?.creationRatePerSecond;
      panels.push({
        title: `${c.title}: end-to-end latency distribution`,
        note: `${fmt(rate, 0)} payouts/s for ${c.spec.stream?.seconds} s; share done within x ms; the run nearest the median p99`,
        xLabel: 'ms since Expenzy create_time (log scale)',
        yLabel: '% of payouts',
        series,
        logX: true,
        yMax: 100,
      });
    }
  }
  const streams = result.cases.filter((c) => c.kind !== 'drain');
  if (streams.length > 0) {
    const series: Series[] = [];
    for (const c of streams) {
      for (const pipeline of [...new Set(c.runs.map((run) => run.pipeline))].filter((p) => p !== 'ceiling')) {
        const run = medianRun(
          c.runs.filter((r) => r.pipeline === pipeline),
          'toProcessingP99Ms',
        );
        series.push({
          label: `${c.title}, ${pipeline}`,
          color: pipelineColor(pipeline),
          points: run?.curves.backlog ?? [],
          dashed: c.kind === 'stream-50',
        });
      }
    }
    panels.push({
      title: 'Backlog during the streams',
      note: 'payouts still notifying at Expenzy, sampled every 0.5 s',
      xLabel: 'seconds since the producer started',
      yLabel: 'payouts notifying',
      series,
    });
  }
  const m = result.machine;
  return {
    heading: `expenzy-sync bench ${result.startedAt.slice(0, 16).replace('T', ' ')} — ${m.nproc} CPUs, node ${m.node}, load ${m.loadAverage[0]}; medians of ${result.options.repeat}`,
    panels,
  };
}
