import type { BenchResult, CaseResult, TargetCheck } from './result.js';

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

/** Drains at least this large are the ones issue 10 names (10,000 and 100,000). */
export const LARGE_DRAIN = 10_000;
/** A day's outage: the backlog that must start draining at once (issue 19). */
export const OUTAGE_DRAIN = 1_000_000;

/**
 * Issue 10's "Done when" for the benchmark, and issue 5's targets that still apply, on the
 * medians of one run. A check whose figure is missing (a pipeline not run) is n/a.
 */
export function evaluateTargets(result: BenchResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const byKind = (kind: CaseResult['kind']) => result.cases.filter((c) => c.kind === kind);
  const drains = [...byKind('drain')].sort((a, b) => a.spec.n - b.spec.n);

  for (const drain of drains) {
    const t = drain.median.temporal;
    checks.push(
      check(`${drain.title}: completes, consistent`, drain.consistent ? 1 : 0, 'yes', (v) => v === 1),
    );
    if (drain.spec.n >= LARGE_DRAIN && drain.median.ceiling && t) {
      checks.push(
        check(
          `${drain.title}: throughput ÷ the ceiling's (issue 10)`,
          drain.ofCeiling.temporal,
          '≥ 0.8',
          (v) => v >= 0.8,
        ),
      );
    }
    if (drain.median.direct && t) {
      checks.push(
        check(
          `${drain.title}: drain time within 1.5× the direct baseline (issue 5)`,
          drain.ratios.drainSeconds,
          '≤ 1.5×',
          (v) => v <= 1.5,
        ),
      );
    }
    if (!t) continue;
    if (drain.spec.n >= OUTAGE_DRAIN) {
      checks.push(
        check(
          `${drain.title}: first processing update after the webhook (s, issue 19)`,
          t.firstUpdateSeconds,
          '≤ 15 s',
          (v) => v <= 15,
        ),
      );
      checks.push(
        check(
          `${drain.title}: step attempts failed for a timeout (issue 19)`,
          t.timedOutAttempts,
          '0',
          (v) => v === 0,
        ),
      );
    }
    if (drain.spec.n >= LARGE_DRAIN) {
      checks.push(
        check(
          `${drain.title}: history events per payout (issue 10)`,
          t.historyEventsPerPayout,
          '≤ 0.05',
          (v) => v <= 0.05,
        ),
      );
    }
    checks.push(
      check(
        `${drain.title}: largest single run's history (events)`,
        t.maxRunHistoryEvents,
        `< ${HISTORY_WARN_EVENTS}`,
        (v) => v < HISTORY_WARN_EVENTS,
      ),
    );
    checks.push(
      check(
        `${drain.title}: largest single run's history (MiB)`,
        t.maxRunHistoryMiB,
        `< ${HISTORY_WARN_MIB} MiB`,
        (v) => v < HISTORY_WARN_MIB,
      ),
    );
  }
  // Memory bounded by the batch: the worker's peak may not grow with N between the smallest and
  // the largest drain (issue 10: 100,000 within 64 MiB of 1,000).
  const withWorker = drains.filter((d) => d.median.temporal);
  if (withWorker.length >= 2) {
    const small = withWorker[0]!;
    const large = withWorker[withWorker.length - 1]!;
    const growth = (large.median.temporal?.peakRssMiB ?? NaN) - (small.median.temporal?.peakRssMiB ?? NaN);
    checks.push(
      check(
        `worker peak RSS growth from ${small.title} to ${large.title} (MiB, issue 10)`,
        Number.isFinite(growth) ? growth : null,
        '≤ 64 MiB',
        (v) => v <= 64,
      ),
    );
  }
  // One list per pass whatever the backlog: the large drains need the same number of lists, ±1.
  const large = withWorker.filter((d) => d.spec.n >= LARGE_DRAIN);
  if (large.length >= 2) {
    const lists = large.map((d) => d.median.temporal?.listCalls ?? NaN);
    const spread = Math.max(...lists) - Math.min(...lists);
    checks.push(
      check(
        `partner list calls per drain, ${large.map((d) => d.title.replace('drain ', '')).join(' vs ')} ` +
          `(${lists.map((n) => fmtCount(n)).join(' vs ')}; issue 10)`,
        Number.isFinite(spread) ? spread : null,
        'differ by ≤ 1',
        (v) => v <= 1,
      ),
    );
  }

  for (const stream of byKind('stream-50')) {
    const t = stream.median.temporal;
    if (!t) continue;
    checks.push(
      check(
        'stream 50/s: p99 create→processing (ms, issue 10)',
        t.toProcessingP99Ms,
        '≤ 400 ms',
        (v) => v <= 400,
      ),
    );
    checks.push(check('stream 50/s: backlog at end (issue 10)', t.backlogAtEnd, '0', (v) => v === 0));
    checks.push(
      check('stream 50/s: p99 create→recorded (ms, issue 5)', t.toRecordedP99Ms, '≤ 500 ms', (v) => v <= 500),
    );
  }
  for (const stream of byKind('stream-max')) {
    const t = stream.median.temporal;
    if (!t) continue;
    const rate = t.creationRatePerSecond ?? null;
    checks.push(
      check(
        'stream max: backlog growth (payouts/s, least squares; issue 5)',
        t.backlogSlopePerSecond,
        rate === null ? '≤ 2% of the rate' : `≤ ${(0.02 * rate).toFixed(1)}/s (2% of ${rate.toFixed(0)}/s)`,
        (v) => rate !== null && v <= 0.02 * rate,
      ),
    );
  }
  return checks;
}

const fmtCount = (n: number) => (Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '-');
