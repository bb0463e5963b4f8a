import type { BenchResult, CaseResult } from './bench.js';

/** The targets, checked on the medians of one run. */
export interface TargetCheck {
  target: string;
  /** The measured value, in the unit of the limit. */
  value: number | null;
  limit: string;
  met: boolean | null;
}

/** Temporal's history limits at which the server starts warning (it fails a run at 51,200 events / 50 MB). */
export const HISTORY_WARN_EVENTS = 10_240;
export const HISTORY_WARN_MIB = 10;

const check = (
  target: string,
  value: number | null | undefined,
  limit: string,
  ok: (v: number) => boolean,
) => ({
  target,
  value: value ?? null,
  limit,
  met: value === null || value === undefined ? null : ok(value),
});

export function evaluateTargets(result: BenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const byKind = (kind: CaseResult['kind']) => result.cases.filter((c) => c.kind === kind);
  const drains = byKind('drain');

  for (const drain of drains) {
    const t = drain.median.temporal;
    if (drain.median.direct) {
      checks.push(
        check(
          `${drain.title}: drain time within 1.5× the direct baseline`,
          drain.ratios.drainSeconds,
          '≤ 1.5×',
          (v) => v <= 1.5,
        ),
      );
    }
    checks.push(
      check(`${drain.title}: completes, consistent`, drain.consistent ? 1 : 0, 'yes', (v) => v === 1),
    );
    checks.push(
      check(`${drain.title}: history events per payout`, t?.historyEventsPerPayout, '≤ 1', (v) => v <= 1),
    );
    checks.push(
      check(
        `${drain.title}: largest single run's history (events)`,
        t?.maxRunHistoryEvents,
        `< ${HISTORY_WARN_EVENTS}`,
        (v) => v < HISTORY_WARN_EVENTS,
      ),
    );
    checks.push(
      check(
        `${drain.title}: largest single run's history (MiB)`,
        t?.maxRunHistoryMiB,
        `< ${HISTORY_WARN_MIB} MiB`,
        (v) => v < HISTORY_WARN_MIB,
      ),
    );
  }
  // Memory bounded: the worker's peak may not grow with N (beyond a batch's worth) between sizes.
  if (drains.length >= 2) {
    const sorted = [...drains].sort((a, b) => a.spec.n - b.spec.n);
    const small = sorted[0]!;
    const large = sorted[sorted.length - 1]!;
    const growth = (large.median.temporal?.peakRssMiB ?? NaN) - (small.median.temporal?.peakRssMiB ?? NaN);
    checks.push(
      check(
        `worker peak RSS growth from ${small.title} to ${large.title} (MiB)`,
        Number.isFinite(growth) ? growth : null,
        '≤ 64 MiB (about no growth)',
        (v) => v <= 64,
      ),
    );
  }

  for (const stream of byKind('stream-50')) {
    const t = stream.median.temporal;
    checks.push(
      check('stream 50/s: p99 create→recorded (ms)', t?.toRecordedP99Ms, '≤ 500 ms', (v) => v <= 500),
    );
    checks.push(
      check('stream 50/s: p99 create→processing (ms)', t?.toProcessingP99Ms, '≤ 1000 ms', (v) => v <= 1000),
    );
    checks.push(check('stream 50/s: backlog at end', t?.backlogAtEnd, '0', (v) => v === 0));
  }
  for (const stream of byKind('stream-max')) {
    const t = stream.median.temporal;
    const rate = t?.creationRatePerSecond ?? null;
    checks.push(
      check(
        'stream max: backlog growth (payouts/s, least squares)',
        t?.backlogSlopePerSecond,
        rate === null ? '≤ 2% of the rate' : `≤ ${(0.02 * rate).toFixed(1)}/s (2% of ${rate.toFixed(0)}/s)`,
        (v) => rate !== null && v <= 0.02 * rate,
      ),
    );
  }
  return checks;
}
