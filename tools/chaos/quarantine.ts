import type { StackClients } from './clients.js';

/**
 * Where every malformed payout the partner holds ended up: kept by Holvi with a reason
 * (`holvi_rejected_payout`), set to `error` at the partner (a `bad_id` cannot be addressed: it
 * stays `notifying`, with the partner's refusal recorded), never recorded as a payout; and, the
 * other way round, no valid payout kept as malformed. Used by the malformed-payouts scenario and
 * by the soak's final checks.
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

export interface KindAccount {
  count: number;
  /** Kept in holvi_rejected_payout with a non-empty reason. */
  quarantined: number;
  /** `error` at the partner (bad_id: still `notifying`, the refusal recorded). */
  settled: number;
  /** One reason Holvi gave for this kind. */
  reason?: string;
}

/** A malformed payout whose account is open, and why. */
export interface OpenPayout {
  id: string;
  /** "KIND ID (STATE)". */
  label: string;
  why: string;
}

export interface QuarantineAccount {
  malformed: number;
  byKind: Map<string, KindAccount>;
  /** Malformed payouts not quarantined with a reason. */
  notQuarantined: OpenPayout[];
  /** Malformed payouts not settled: not `error` at the partner, or Holvi did not record it so. */
  unsettled: OpenPayout[];
  /** Ids of malformed payouts found in holvi_received_payout. */
  recorded: string[];
  /** expenzy_id of quarantined rows that match no malformed payout (a valid payout refused). */
  strays: string[];
}

/** The id as the partner lists it: the simulator's bad_id defect renders "txn-" + 8 hex. */
const listedId = (row: MalformedRow) => (row.kind === 'bad_id' ? `txn-${row.id.slice(0, 8)}` : row.id);

/** Null when the payout is settled; else what is missing. */
function unsettledWhy(row: MalformedRow, kept: RejectedRow | undefined): string | null {
  if (row.kind === 'bad_id') {
    if (row.state !== 'notifying') return `a bad_id payout is ${row.state} at the partner`;
    return kept?.failure != null ? null : "the partner's refusal is not recorded";
  }
  if (row.state !== 'error') return `${row.state} at the partner, not error`;
  return kept?.errorSet === true ? null : 'error at the partner, but Holvi recorded no outcome';
}

export async function accountForMalformed(clients: StackClients): Promise<QuarantineAccount> {
  const { rows: malformed } = await clients.expenzyPool.query<MalformedRow>(
    `SELECT id::text AS id, malformed_kind AS kind, state FROM expenzy_transaction
      WHERE malformed_kind IS NOT NULL ORDER BY create_time, id`,
  );
  const { rows: rejected } = await clients.holviPool.query<RejectedRow>(
    `SELECT expenzy_id AS "expenzyId", reason, partner_error_set_at IS NOT NULL AS "errorSet",
            partner_error_failure AS failure
       FROM holvi_rejected_payout ORDER BY id`,
  );
  const { rows: recorded } = await clients.holviPool.query<{ id: string }>(
    'SELECT expenzy_uuid::text AS id FROM holvi_received_payout WHERE expenzy_uuid = ANY($1::uuid[])',
    [malformed.map((row) => row.id)],
  );
  const quarantine = new Map(rejected.map((row) => [row.expenzyId?.trim().toLowerCase() ?? '', row]));

  const byKind = new Map<string, KindAccount>();
  const notQuarantined: OpenPayout[] = [];
  const unsettled: OpenPayout[] = [];
  const listed = new Set<string>();
  for (const row of malformed) {
    const entry = byKind.get(row.kind) ?? { count: 0, quarantined: 0, settled: 0 };
    byKind.set(row.kind, entry);
    entry.count++;
    const id = listedId(row).toLowerCase();
    listed.add(id);
    const kept = quarantine.get(id);
    const label = `${row.kind} ${row.id} (${row.state})`;
    if (kept && kept.reason.trim() !== '') entry.quarantined++;
    else notQuarantined.push({ id: row.id, label, why: 'not in holvi_rejected_payout with a reason' });
    const why = unsettledWhy(row, kept);
    if (why === null) entry.settled++;
    else unsettled.push({ id: row.id, label, why });
    if (kept && entry.reason === undefined) entry.reason = kept.reason;
  }
  const strays = rejected
    .map((row) => row.expenzyId ?? '(no id)')
    .filter((id) => !listed.has(id.trim().toLowerCase()));
  return {
    malformed: malformed.length,
    byKind,
    notQuarantined,
    unsettled,
    recorded: recorded.map((row) => row.id),
    strays,
  };
}
