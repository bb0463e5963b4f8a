import type { BenchResult, CaseResult } from './bench.js';
import { colors, type Panel, type Series } from './chart.js';
import type { RunResult } from './cases.js';
import type { PipelineName } from './options.js';
import { median } from './stats.js';

/** The results as a terminal table (pipelines side by side, with the ratio) and as chart panels. */

interface Row {
  label: string;
  key: string;
  digits: number;
  /** Print temporal/direct for this row. */
  ratio?: boolean;
  /** A Temporal-only figure: no baseline column. */
  temporalOnly?: boolean;
}

const drainRows: Row[] = [
  { label: 'drain time (s)', key: 'drainSeconds', digits: 2, ratio: true },
  { label: 'payouts/s', key: 'payoutsPerSecond', digits: 0, ratio: true },
  { label: 'time to all recorded (s)', key: 'allRecordedSeconds', digits: 2, ratio: true },
  { label: 'time to first recorded (s)', key: 'firstRecordedSeconds', digits: 2, ratio: true },
  { label: 'peak RSS of the sync process (MiB)', key: 'peakRssMiB', digits: 0, ratio: true },
];

const streamRows: Row[] = [
  { label: 'producer rate (payouts/s)', key: 'creationRatePerSecond', digits: 1 },
  { label: 'payouts created', key: 'payouts', digits: 0 },
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
  { label: 'peak RSS of the sync process (MiB)', key: 'peakRssMiB', digits: 0, ratio: true },
];

const costRows: Row[] = [
  { label: 'history events / payout', key: 'historyEventsPerPayout', digits: 3, temporalOnly: true },
  { label: 'signals / webhook', key: 'signalsPerWebhook', digits: 3, temporalOnly: true },
  { label: 'activity executions / payout', key: 'activitiesPerPayout', digits: 4, temporalOnly: true },
  { label: 'activity attempts / payout', key: 'activityAttemptsPerPayout', digits: 4, temporalOnly: true },
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
  `${cells[0]!.padEnd(14)}${cells[1]!.padEnd(38)}${cells[2]!.padStart(11)}${cells[3]!.padStart(11)}${cells[4]!.padStart(9)}`;

function caseLines(result: CaseResult): string[] {
  const rows = [...(result.kind === 'drain' ? drainRows : streamRows), ...costRows];
  const lines: string[] = [];
  rows.forEach((row, i) => {
    const t = result.median.temporal?.[row.key];
    const d = row.temporalOnly ? undefined : result.median.direct?.[row.key];
    const r = row.ratio ? result.ratios[row.key] : undefined;
    lines.push(
      line([
        i === 0 ? result.title : '',
        row.label,
        fmt(t, row.digits),
        row.temporalOnly ? '' : fmt(d, row.digits),
        row.ratio ? `${fmt(r, 2)}${r == null ? '' : '×'}` : '',
      ]),
    );
  });
  for (const pipeline of ['temporal', 'direct'] as PipelineName[]) {
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

export function formatTable(result: BenchResult): string {
  const { machine, settings, options } = result;
  const header = [
    `expenzy-sync bench — medians of ${options.repeat} run(s) per case and pipeline; stream ${options.streamSeconds} s; ` +
      `failure rate ${settings.failureRate}; batch ${settings.fetchBatchSize}; parallel calls ${settings.maxParallelCalls}; seed ${settings.seed}`,
    `machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, ` +
      `load average ${machine.loadAverage.join(' ')} at start, ${result.loadAverageAtEnd.join(' ')} at end`,
    '',
    line(['case', 'figure', 'temporal', 'direct', 'ratio']),
    '-'.repeat(83),
  ];
  const body = result.cases.flatMap((c) => [...caseLines(c), '']);
  const targets = [
    'targets',
    ...result.targets.map(
      (t) =>
        `  [${t.met === null ? ' n/a' : t.met ? ' MET' : 'MISS'}] ${t.target}: ${fmt(t.value, t.value !== null && Math.abs(t.value) < 10 ? 2 : 0)} (${t.limit})`,
    ),
  ];
  const failures = (result.failures ?? []).map(
    (f) => `  FAILED RUN ${f.case} ${f.pipeline} ${f.repetition}: ${f.error}`,
  );
  return [...header, ...body, ...targets, ...failures].join('\n');
}

/** Markdown version of the main figures, for bench/README.md and the issue note. */
export function formatMarkdown(result: BenchResult): string {
  const out = ['| case | figure | temporal | direct | ratio |', '| --- | --- | ---: | ---: | ---: |'];
  for (const c of result.cases) {
    const rows = [...(c.kind === 'drain' ? drainRows : streamRows), ...costRows];
    rows.forEach((row, i) => {
      const t = c.median.temporal?.[row.key];
      const d = row.temporalOnly ? undefined : c.median.direct?.[row.key];
      const r = row.ratio ? c.ratios[row.key] : undefined;
      out.push(
        `| ${i === 0 ? c.title : ''} | ${row.label} | ${fmt(t, row.digits)} | ${row.temporalOnly ? '' : fmt(d, row.digits)} | ${row.ratio ? `${fmt(r, 2)}${r == null ? '' : '×'}` : ''} |`,
      );
    });
  }
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

const pipelineColor = (pipeline: PipelineName) => (pipeline === 'temporal' ? colors.temporal : colors.direct);

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
        title: `Drain of ${c.spec.n} payouts (one webhook)`,
        note: 'payouts done vs time since the webhook; the run nearest the median drain time',
        xLabel: 'seconds since the webhook',
        yLabel: 'payouts',
        series,
      });
    } else {
      for (const pipeline of pipelines) {
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
      for (const pipeline of [...new Set(c.runs.map((run) => run.pipeline))]) {
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
