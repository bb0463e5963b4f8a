import { percentilesMs, type Percentiles } from '../tools/report/index.js';

export type { Percentiles } from '../tools/report/index.js';

/** Percentiles of durations in ms, interpolated as the report tool does (PostgreSQL's percentile_cont). */
export function percentiles(durationsMs: number[]): Percentiles | null {
  return percentilesMs(durationsMs.map((ms) => Math.round(ms * 1000)));
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[Math.floor(middle)]!;
}

export type Figures = Record<string, number | null>;

/** The median of each figure over the runs (a figure missing or null in every run stays null). */
export function medianFigures(runs: Figures[]): Figures {
  return reduceFigures(runs, median);
}

/** The smallest of each figure over the runs (null when missing or null in every run). */
export function minFigures(runs: Figures[]): Figures {
  return reduceFigures(runs, (values) => Math.min(...values));
}

/** The largest of each figure over the runs (null when missing or null in every run). */
export function maxFigures(runs: Figures[]): Figures {
  return reduceFigures(runs, (values) => Math.max(...values));
}

function reduceFigures(runs: Figures[], reduce: (values: number[]) => number): Figures {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run)))];
  return Object.fromEntries(
    names.map((name) => {
      const values = runs.flatMap((run) => {
        const value = run[name];
        return typeof value === 'number' && Number.isFinite(value) ? [value] : [];
      });
      return [name, values.length > 0 ? reduce(values) : null];
    }),
  );
}

/** pipeline / baseline, or null when either side is missing or the baseline is zero. */
export function ratio(
  pipeline: number | null | undefined,
  baseline: number | null | undefined,
): number | null {
  if (pipeline == null || baseline == null || baseline === 0) return null;
  return pipeline / baseline;
}

/** Least-squares slope of y over x (e.g. backlog per second); 0 with fewer than two points. */
export function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  let numerator = 0;
  let denominator = 0;
  for (const [x, y] of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * A sorted sample cut down to at most `points` [value, cumulative share] pairs for a chart:
 * evenly spaced shares, plus the finer tail (99th percentile up) where the interest is.
 */
export function cdf(sortedValues: number[], points = 120): [number, number][] {
  const n = sortedValues.length;
  if (n === 0) return [];
  const shares = new Set<number>();
  for (let i = 0; i <= points - 20; i++) shares.add(i / (points - 20));
  for (let i = 1; i < 20; i++) shares.add(0.99 + (0.01 * i) / 20);
  return [...shares]
    .sort((a, b) => a - b)
    .map((share) => [sortedValues[Math.min(n - 1, Math.round(share * (n - 1)))]!, share]);
}

/** Cumulative count over time from sorted event times: at most `points` [t, count] steps. */
export function cumulative(sortedTimes: number[], points = 200): [number, number][] {
  const n = sortedTimes.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / points));
  const curve: [number, number][] = [[0, 0]];
  for (let i = step - 1; i < n; i += step) curve.push([sortedTimes[i]!, i + 1]);
  if (curve[curve.length - 1]![1] !== n) curve.push([sortedTimes[n - 1]!, n]);
  return curve;
}

export const round = (value: number | null, digits = 1): number | null =>
  value === null || !Number.isFinite(value) ? null : Math.round(value * 10 ** digits) / 10 ** digits;
