import type pg from 'pg';
import { comparePayouts, problemKinds, type Comparison, type ProblemKind, type Sample } from './compare.js';
import { percentilesMs, type Percentiles } from './latency.js';
import { loadExpenzy, loadHolvi } from './load.js';

export type Status = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  key:
    | 'total'
    | 'processing'
    | ProblemKind
    | 'quarantinedUnsettled'
    | 'quarantineRefusedForGood'
    | 'maxUpdateCount';
  label: string;
  /** The difference, count or maximum the status is about. */
  figure: number;
  status: Status;
  /** First ids concerned, when the figure counts payouts. */
  sample?: string[];
}

export interface Report extends Omit<Comparison, 'toReceivedMicros' | 'toConfirmedMicros'> {
  consistent: boolean;
  /** Expenzy total less the quarantined payouts. */
  expectedHolviRows: number;
  difference: { total: number; processing: number };
  latencyMs: { toReceived: Percentiles | null; toConfirmed: Percentiles | null };
  checks: Check[];
}

export interface ReportInput {
  holviPool: pg.Pool;
  expenzyPool: pg.Pool;
  /** Turns a max update count above 1 from FAIL into WARN (for runs with post-commit 500s). */
  allowRepeatedUpdates?: boolean;
}

const labels: Record<ProblemKind, string> = {
  duplicates: 'Duplicates in Holvi',
  missing: 'At Expenzy, missing in Holvi',
  unknownToExpenzy: 'In Holvi, unknown to Expenzy',
  notMarked: 'Recorded, still notifying at Expenzy',
  notConfirmed: 'Recorded, processing not confirmed',
  errorAtPartnerButRecorded: 'Recorded, but error at Expenzy',
  amountMismatch: 'Amount mismatches',
  recipientMismatch: 'Recipient mismatches',
  createTimeMismatch: 'Create time mismatches',
};

const zeroIsOk = (figure: number): Status => (figure === 0 ? 'OK' : 'FAIL');

/**
 * The consistency check between Holvi's and Expenzy's databases (the original db_check).
 * Meant for a quiet system; Holvi is read first so that, if payouts are still arriving,
 * they show as missing rather than as unknown to Expenzy.
 */
export async function buildReport({
  holviPool,
  expenzyPool,
  allowRepeatedUpdates = false,
}: ReportInput): Promise<Report> {
  const holvi = await loadHolvi(holviPool);
  const expenzy = await loadExpenzy(expenzyPool);
  return reportFrom(comparePayouts(holvi, expenzy), allowRepeatedUpdates);
}

export function reportFrom(comparison: Comparison, allowRepeatedUpdates: boolean): Report {
  const { toReceivedMicros, toConfirmedMicros, ...figures } = comparison;
  const { holviRows, expenzy, quarantined, updates, problems } = figures;
  const expectedHolviRows = expenzy.total - quarantined - figures.quarantinedUnsettled.count;
  const difference = { total: holviRows - expectedHolviRows, processing: holviRows - expenzy.processing };
  const checks: Check[] = [
    {
      key: 'total',
      label: `Holvi vs Expenzy total (expected ${expectedHolviRows})`,
      figure: difference.total,
      status: zeroIsOk(difference.total),
    },
    {
      key: 'processing',
      label: 'Holvi vs Expenzy processing',
      figure: difference.processing,
      status: zeroIsOk(difference.processing),
    },
    ...problemKinds.map((key) => sampleCheck(key, labels[key], problems[key])),
    {
      key: 'quarantinedUnsettled',
      label: 'Quarantined, partner refused error',
      figure: figures.quarantinedUnsettled.count,
      status: figures.quarantinedUnsettled.count === 0 ? 'OK' : 'WARN',
      sample: figures.quarantinedUnsettled.first,
    },
    {
      key: 'quarantineRefusedForGood',
      label: 'Quarantined, refused for good (Holvi)',
      figure: figures.quarantineRefusedForGood.count,
      status: figures.quarantineRefusedForGood.count === 0 ? 'OK' : 'WARN',
      sample: figures.quarantineRefusedForGood.first,
    },
    {
      key: 'maxUpdateCount',
      label: 'Max update count',
      figure: updates.max,
      status: updates.max <= 1 ? 'OK' : allowRepeatedUpdates ? 'WARN' : 'FAIL',
      sample: updates.repeated.first,
    },
  ];
  return {
    consistent: checks.every((check) => check.status !== 'FAIL'),
    ...figures,
    expectedHolviRows,
    difference,
    latencyMs: { toReceived: percentilesMs(toReceivedMicros), toConfirmed: percentilesMs(toConfirmedMicros) },
    checks,
  };
}

const sampleCheck = (key: ProblemKind, label: string, sample: Sample): Check => ({
  key,
  label,
  figure: sample.count,
  status: zeroIsOk(sample.count),
  sample: sample.first,
});
