import type { ExpenzyRow, HolviSide } from './load.js';

/** How many payouts show a problem, and the first few of their ids (in creation / insertion order). */
export interface Sample {
  count: number;
  first: string[];
}

export const problemKinds = [
  'duplicates',
  'missing',
  'unknownToExpenzy',
  'notMarked',
  'notConfirmed',
  'errorAtPartnerButRecorded',
  'amountMismatch',
  'recipientMismatch',
  'createTimeMismatch',
] as const;

export type ProblemKind = (typeof problemKinds)[number];

export interface Comparison {
  holviRows: number;
  rejectedRows: number;
  expenzy: {
    total: number;
    processing: number;
    notifying: number;
    error: number;
    malformed: number;
  };
  /** beyondOne: the sum over payouts of max(0, state_update_count - 1); repeated: those above 1. */
  updates: { max: number; beyondOne: number; repeated: Sample };
  /** In `error` at the partner, rejected by Holvi, absent from Holvi's payouts: expected absent. */
  quarantined: number;
  /** Rejected by Holvi but still `notifying` at the partner, which refused `error` (e.g. an id it cannot be addressed by). */
  quarantinedUnsettled: Sample;
  /** Distinct rejected ids the partner holds in `error`. */
  rejectedErrorAtPartner: number;
  /** Quarantined rows Holvi gave up setting to `error` (a refusal that cannot change). */
  quarantineRefusedForGood: Sample;
  problems: Record<ProblemKind, Sample>;
  /** Expenzy create_time → Holvi received_at / processing_confirmed_at, in microseconds. */
  toReceivedMicros: number[];
  toConfirmedMicros: number[];
}

const sampleSize = 5;
const emptySample = (): Sample => ({ count: 0, first: [] });
function note(sample: Sample, id: string) {
  sample.count += 1;
  if (sample.first.length < sampleSize) sample.first.push(id);
}
const elapsed = (from: string, to: string) => Number(BigInt(to) - BigInt(from));

/** Both sides held in Maps keyed by uuid; every value compared as exact text. */
export function comparePayouts(holvi: HolviSide, expenzy: ExpenzyRow[]): Comparison {
  const problems = Object.fromEntries(
    problemKinds.map((kind) => [kind, emptySample()]),
  ) as Comparison['problems'];
  const partner = new Map(expenzy.map((row) => [row.id, row]));
  const received = new Map<string, HolviSide['received'][number]>();
  const duplicated = new Set<string>();
  const toReceivedMicros: number[] = [];
  const toConfirmedMicros: number[] = [];

  for (const ours of holvi.received) {
    if (received.has(ours.uuid)) {
      if (!duplicated.has(ours.uuid)) note(problems.duplicates, ours.uuid);
      duplicated.add(ours.uuid);
      continue;
    }
    received.set(ours.uuid, ours);
    if (ours.confirmedMicros === null) note(problems.notConfirmed, ours.uuid);
    const theirs = partner.get(ours.uuid);
    if (!theirs) {
      note(problems.unknownToExpenzy, ours.uuid);
      continue;
    }
    if (theirs.state === 'notifying') note(problems.notMarked, ours.uuid);
    if (theirs.state === 'error') note(problems.errorAtPartnerButRecorded, ours.uuid);
    if (ours.amount !== theirs.amount) note(problems.amountMismatch, ours.uuid);
    if (ours.recipient !== theirs.recipient) note(problems.recipientMismatch, ours.uuid);
    if (ours.createMicros !== theirs.createMicros) note(problems.createTimeMismatch, ours.uuid);
    toReceivedMicros.push(elapsed(theirs.createMicros, ours.receivedMicros));
    if (ours.confirmedMicros !== null)
      toConfirmedMicros.push(elapsed(theirs.createMicros, ours.confirmedMicros));
  }

  const rejected = new Set(holvi.rejectedIds.flatMap((id) => (id === null ? [] : [id.trim().toLowerCase()])));
  const counts = {
    total: expenzy.length,
    processing: 0,
    notifying: 0,
    error: 0,
    malformed: 0,
  };
  const updates = { max: 0, beyondOne: 0, repeated: emptySample() };
  let quarantined = 0;
  const quarantinedUnsettled = emptySample();
  let rejectedErrorAtPartner = 0;
  for (const theirs of expenzy) {
    if (theirs.state === 'processing' || theirs.state === 'notifying' || theirs.state === 'error') {
      counts[theirs.state] += 1;
    }
    if (theirs.malformed) counts.malformed += 1;
    updates.max = Math.max(updates.max, theirs.updateCount);
    if (theirs.updateCount > 1) {
      updates.beyondOne += theirs.updateCount - 1;
      note(updates.repeated, theirs.id);
    }
    const wasRejected = rejected.has(theirs.id) || rejected.has(theirs.listedId.toLowerCase());
    const isQuarantine = theirs.state === 'error' && wasRejected;
    if (isQuarantine) rejectedErrorAtPartner += 1;
    if (received.has(theirs.id)) continue;
    if (isQuarantine) quarantined += 1;
    else if (wasRejected && theirs.state === 'notifying') note(quarantinedUnsettled, theirs.id);
    else note(problems.missing, theirs.id);
  }

  const quarantineRefusedForGood = emptySample();
  for (const id of holvi.refusedForGood ?? []) note(quarantineRefusedForGood, id ?? '(no id)');

  return {
    holviRows: holvi.received.length,
    quarantineRefusedForGood,
    rejectedRows: holvi.rejectedIds.length,
    expenzy: counts,
    quarantined,
    quarantinedUnsettled,
    rejectedErrorAtPartner,
    updates,
    problems,
    toReceivedMicros,
    toConfirmedMicros,
  };
}
