export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Percentiles in milliseconds of durations given in integer microseconds (exact as JS
 * numbers up to 285 years), interpolated like PostgreSQL's percentile_cont.
 */
export function percentilesMs(durationsMicros: number[]): Percentiles | null {
  if (durationsMicros.length === 0) return null;
  const sorted = Float64Array.from(durationsMicros).sort();
  const at = (fraction: number) => {
    const position = fraction * (sorted.length - 1);
    const below = sorted[Math.floor(position)]!;
    const above = sorted[Math.ceil(position)]!;
    return (below + (above - below) * (position - Math.floor(position))) / 1000;
  };
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}
