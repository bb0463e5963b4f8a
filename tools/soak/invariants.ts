import { setTimeout as sleep } from 'node:timers/promises';
import type { StackClients } from '../chaos/clients.js';
import { accountForMalformed, type OpenPayout } from '../chaos/quarantine.js';
import type { Report } from '../report/index.js';

/**
 * The soak's invariants. At every moment, faults or not: no payout updated twice at the partner
 * (the simulator counts every applied update in `state_update_count`), none recorded twice in
 * `holvi_received_payout`. Once the faults have stopped and the system has drained: none
 * missing, nothing else the report fails, and every malformed payout accounted for (quarantined
 * with a reason, `error` at the partner, never recorded; no valid payout quarantined).
 */

export type Phase = 'faults' | 'drain' | 'end';

export type InvariantName =
  | 'updated-twice'
  | 'recorded-twice'
  | 'not-drained'
  | 'missing'
  | 'report'
  | 'malformed-not-quarantined'
  | 'malformed-not-settled'
  | 'malformed-recorded'
  | 'valid-quarantined';

export interface Violation {
  invariant: InvariantName;
  /** The payout concerned (its id at the partner), or a report check's key. */
  subject: string;
  detail: string;
  /** When it was first seen: milliseconds after the fault phase began, and in which phase. */
  atMs: number;
  phase: Phase;
}

export interface PartnerUpdateCount {
  id: string;
  state: string;
  count: number;
}

export interface RecordedCount {
  id: string;
  count: number;
}

/** A violation as found, before it is known when. */
type Found = Omit<Violation, 'atMs' | 'phase'>;

/** The payouts among `rows` counted more than once, as violations of `invariant`. */
const moreThanOnce =
  <Row extends { id: string; count: number }>(invariant: InvariantName, detail: (row: Row) => string) =>
  (rows: Row[]): Found[] =>
    rows.filter((row) => row.count > 1).map((row) => ({ invariant, subject: row.id, detail: detail(row) }));

/** Payouts updated more than once at the partner, as violations. */
export const updatedTwice = moreThanOnce<PartnerUpdateCount>(
  'updated-twice',
  (row) => `updated ${row.count} times at the partner (now ${row.state})`,
);

/** Payouts with more than one row in holvi_received_payout, as violations. */
export const recordedTwice = moreThanOnce<RecordedCount>(
  'recorded-twice',
  (row) => `${row.count} rows in holvi_received_payout`,
);

/** Checks the report covers otherwise (updated twice, recorded twice) are left to the direct queries. */
const coveredElsewhere = new Set(['maxUpdateCount', 'duplicates']);

/** What a report of the drained system fails, as violations: each missing payout, then each other failed check. */
export function reportViolations(report: Report): Found[] {
  const found: Found[] = [];
  for (const check of report.checks) {
    if (check.status !== 'FAIL' || coveredElsewhere.has(check.key)) continue;
    if (check.key === 'missing') {
      for (const id of check.sample ?? [])
        found.push({ invariant: 'missing', subject: id, detail: 'at the partner, not in Holvi' });
      const unnamed = check.figure - (check.sample?.length ?? 0);
      if (unnamed > 0)
        found.push({ invariant: 'missing', subject: 'missing', detail: `and ${unnamed} more missing` });
      continue;
    }
    const sample = check.sample?.length ? ` (first: ${check.sample.join(', ')})` : '';
    found.push({
      invariant: 'report',
      subject: check.key,
      detail: `${check.label}: ${check.figure}${sample}`,
    });
  }
  return found;
}

export class Invariants {
  private readonly found = new Map<string, Violation>();
  /** Rounds of the continuous checks made, and those the databases could not answer (a restart). */
  readonly rounds = { checked: 0, unreadable: 0 };

  constructor(
    private readonly clients: StackClients,
    private readonly clock: () => number,
  ) {}

  /** Every violation seen, each once, in the order first seen. */
  list(): Violation[] {
    return [...this.found.values()];
  }

  private add(violations: Found[], phase: Phase): void {
    for (const violation of violations) {
      const key = `${violation.invariant}:${violation.subject}`;
      if (!this.found.has(key)) this.found.set(key, { ...violation, atMs: this.clock(), phase });
    }
  }

  /** The invariants that hold at every moment. False when a database could not answer now. */
  async checkNow(phase: Phase): Promise<boolean> {
    try {
      const { rows: updates } = await this.clients.expenzyPool.query<PartnerUpdateCount>(
        `SELECT id::text AS id, state, state_update_count AS count
           FROM expenzy_transaction WHERE state_update_count > 1 ORDER BY create_time, id`,
      );
      const { rows: recorded } = await this.clients.holviPool.query<RecordedCount>(
        `SELECT expenzy_uuid::text AS id, count(*)::int AS count FROM holvi_received_payout
          GROUP BY expenzy_uuid HAVING count(*) > 1 ORDER BY min(id)`,
      );
      this.add(updatedTwice(updates), phase);
      this.add(recordedTwice(recorded), phase);
      this.rounds.checked++;
      return true;
    } catch {
      this.rounds.unreadable++;
      return false;
    }
  }

  /** Checks every `everyMs` until the function returned is called (it waits for the round in progress). */
  watch(everyMs: number, phase: () => Phase): () => Promise<void> {
    const stop = new AbortController();
    const loop = (async () => {
      while (!stop.signal.aborted) {
        await this.checkNow(phase());
        await sleep(everyMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    })();
    return async () => {
      stop.abort();
      await loop;
    };
  }

  /**
   * The end: the continuous invariants once more (they must be readable now), the drain's
   * outcome and its last report, and every malformed payout accounted for.
   */
  async checkEnd(drain: { drained: boolean; report: Report | null; why?: string }): Promise<void> {
    if (!(await this.checkNow('end')))
      this.add([{ invariant: 'not-drained', subject: 'databases', detail: 'unreadable at the end' }], 'end');
    if (!drain.drained)
      this.add([{ invariant: 'not-drained', subject: 'drain', detail: drain.why ?? 'did not drain' }], 'end');
    if (drain.report) this.add(reportViolations(drain.report), 'end');
    const account = await accountForMalformed(this.clients);
    const open = (payout: OpenPayout) => ({ id: payout.id, detail: `${payout.label}: ${payout.why}` });
    const saying = (detail: string) => (id: string) => ({ id, detail });
    const unaccounted: [InvariantName, { id: string; detail: string }[]][] = [
      ['malformed-not-quarantined', account.notQuarantined.map(open)],
      ['malformed-not-settled', account.unsettled.map(open)],
      [
        'malformed-recorded',
        account.recorded.map(saying('malformed at the partner, yet in holvi_received_payout')),
      ],
      [
        'valid-quarantined',
        account.strays.map(
          saying('in holvi_rejected_payout, but no malformed payout at the partner has this id'),
        ),
      ],
    ];
    for (const [invariant, payouts] of unaccounted)
      this.add(
        payouts.map(({ id, detail }) => ({ invariant, subject: id, detail })),
        'end',
      );
  }
}
