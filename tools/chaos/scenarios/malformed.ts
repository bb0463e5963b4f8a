import { malformedKinds } from '../../../expenzy/knobs.js';
import { callJson } from '../clients.js';
import type { Scenario } from '../scenario.js';

/**
 * Scenario 9: malformed payouts mixed into the stream, every kind the simulator knows. Each
 * must be quarantined with a reason, set to `error` at the partner (bad_id cannot be addressed:
 * it stays `notifying`, the report's WARN 'quarantinedUnsettled'), and never recorded.
 */

interface MalformedRow {
  id: string;
  kind: string;
  state: string;
}

interface RejectedRow {
  expenzyId: string | null;
  reason: string;
  errorSet: boolean;
  failure: string | null;
}

const listedId = (row: MalformedRow) => (row.kind === 'bad_id' ? `txn-${row.id.slice(0, 8)}` : row.id);

export const malformedPayouts: Scenario = {
  name: 'malformed-payouts',
  title: 'A fifth of the payouts malformed (all six kinds), the rest valid',
  async inject({ faults, produce, sizes, clients, figures }) {
    await faults.setKnobs({ malformedRate: 0.2, malformedKinds: [...malformedKinds] });
    // One of each kind for certain; their webhooks are the producer's that follow.
    for (const kind of malformedKinds) {
      await callJson(`${clients.addresses.expenzyUrl}/admin/payouts`, 'POST', { count: 1, malformed: kind });
    }
    figures.created = (figures.created as number) + malformedKinds.length;
    await produce({ count: sizes.payouts }).done;
  },
  async verify({ clients, check, figures }, report) {
    const { rows: malformed } = await clients.expenzyPool.query<MalformedRow>(
      `SELECT id::text AS id, malformed_kind AS kind, state FROM expenzy_transaction
        WHERE malformed_kind IS NOT NULL`,
    );
    const { rows: rejected } = await clients.holviPool.query<RejectedRow>(
      `SELECT expenzy_id AS "expenzyId", reason, partner_error_set_at IS NOT NULL AS "errorSet",
              partner_error_failure AS failure
         FROM holvi_rejected_payout`,
    );
    const { rows: recorded } = await clients.holviPool.query<{ count: string }>(
      'SELECT count(*) AS count FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[])',
      [malformed.map((row) => row.id)],
    );
    const quarantine = new Map(rejected.map((row) => [row.expenzyId?.toLowerCase() ?? '', row]));

    const kinds = new Map<string, { count: number; quarantined: number; settled: number }>();
    const unsettled: string[] = [];
    for (const row of malformed) {
      const entry = kinds.get(row.kind) ?? { count: 0, quarantined: 0, settled: 0 };
      kinds.set(row.kind, entry);
      entry.count++;
      const kept = quarantine.get(listedId(row).toLowerCase());
      if (kept && kept.reason.trim() !== '') entry.quarantined++;
      const settled =
        row.kind === 'bad_id'
          ? row.state === 'notifying' && kept?.failure != null
          : row.state === 'error' && kept?.errorSet === true;
      if (settled) entry.settled++;
      else unsettled.push(`${row.kind} ${row.id} (${row.state})`);
      if (kept && figures[`reason ${row.kind}`] === undefined) figures[`reason ${row.kind}`] = kept.reason;
    }
    for (const [kind, entry] of kinds) figures[kind] = `${entry.quarantined}/${entry.count} quarantined`;
    figures.malformed = malformed.length;
    const quarantined = [...kinds.values()].reduce((sum, entry) => sum + entry.quarantined, 0);
    const badIds = kinds.get('bad_id')?.count ?? 0;

    check(
      'every kind present',
      malformedKinds.every((kind) => kinds.has(kind)),
      [...kinds.keys()].join(','),
    );
    check(
      'all quarantined with a reason',
      quarantined === malformed.length,
      `${quarantined}/${malformed.length}`,
    );
    check(
      'set to error at the partner (bad_id: refused, recorded)',
      unsettled.length === 0,
      unsettled.slice(0, 5).join('; '),
    );
    check(
      'none in holvi_received_payout',
      Number(recorded[0]?.count) === 0,
      `${recorded[0]?.count} recorded`,
    );
    check(
      "bad_id shown as WARN 'quarantinedUnsettled'",
      report.quarantinedUnsettled.count === badIds,
      `${report.quarantinedUnsettled.count} unsettled, ${badIds} bad_id`,
    );
    check(
      'the valid payouts all recorded',
      report.holviRows === report.expenzy.total - malformed.length,
      `${report.holviRows} rows for ${report.expenzy.total - malformed.length} valid payouts`,
    );
  },
};
