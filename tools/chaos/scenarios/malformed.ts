import { malformedKinds } from '../../../expenzy/knobs.js';
import { callJson } from '../clients.js';
import { accountForMalformed } from '../quarantine.js';
import type { Scenario } from '../scenario.js';

/**
 * Scenario 9: malformed payouts mixed into the stream, every kind the simulator knows. Each
 * must be quarantined with a reason, set to `error` at the partner (bad_id cannot be addressed:
 * it stays `notifying`, the report's WARN 'quarantinedUnsettled'), and never recorded.
 */

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
    const account = await accountForMalformed(clients);
    const kinds = account.byKind;
    for (const [kind, entry] of kinds) {
      if (entry.reason !== undefined) figures[`reason ${kind}`] = entry.reason;
      figures[kind] = `${entry.quarantined}/${entry.count} quarantined`;
    }
    figures.malformed = account.malformed;
    const quarantined = account.malformed - account.notQuarantined.length;
    const badIds = kinds.get('bad_id')?.count ?? 0;

    check(
      'every kind present',
      malformedKinds.every((kind) => kinds.has(kind)),
      [...kinds.keys()].join(','),
    );
    check(
      'all quarantined with a reason',
      quarantined === account.malformed,
      `${quarantined}/${account.malformed}`,
    );
    check(
      'set to error at the partner (bad_id: refused, recorded)',
      account.unsettled.length === 0,
      account.unsettled
        .slice(0, 5)
        .map((open) => open.label)
        .join('; '),
    );
    check(
      'none in holvi_received_payout',
      account.recorded.length === 0,
      `${account.recorded.length} recorded`,
    );
    check(
      "bad_id shown as WARN 'quarantinedUnsettled'",
      report.quarantinedUnsettled.count === badIds,
      `${report.quarantinedUnsettled.count} unsettled, ${badIds} bad_id`,
    );
    check(
      'the valid payouts all recorded',
      report.holviRows === report.expenzy.total - account.malformed,
      `${report.holviRows} rows for ${report.expenzy.total - account.malformed} valid payouts`,
    );
  },
};
