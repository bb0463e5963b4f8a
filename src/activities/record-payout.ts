import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { recordStaged } from '../db/payout-store.js';
import type { RecordInput, RecordResult } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';

/** Staged payouts inserted per statement: short statements, and a heartbeat between them. */
const RECORD_CHUNK = 5_000;

/**
 * RecordPayout: stores a range of the payouts a pass staged in holvi_received_payout, inside
 * PostgreSQL (INSERT … SELECT from the stage), a few thousand per statement. The workflow records
 * a window of chunks ahead of marking them, so a large pass starts marking early.
 * Absorbs: any retry (a crash after commit, a lost completion): the unique constraint on
 * expenzy_uuid plus ON CONFLICT DO NOTHING make a repeat insert a no-op, and a retry resumes
 * after the last chunk it reported. A payout whose values PostgreSQL refuses (one the parser
 * should have refused) is kept in holvi_rejected_payout with the reason and the rest of its
 * chunk is recorded: never recorded, it is never marked, and later passes quarantine it.
 * Needs no fence: it sends nothing to the partner.
 */
export function createRecordPayout({ pool, metrics }: ActivityDependencies) {
  return async function RecordPayout({
    passId,
    payoutSeqEnd,
    fromSeq = 0,
  }: RecordInput): Promise<RecordResult> {
    const resumeFrom = Number(activityInfo().heartbeatDetails ?? fromSeq);
    let inserted = 0;
    let refused = 0;
    for (let from = resumeFrom; from < payoutSeqEnd; from += RECORD_CHUNK) {
      // Row by row after a refusal: a retry redoes this chunk (each row a no-op or refused again).
      const to = Math.min(from + RECORD_CHUNK, payoutSeqEnd);
      const recorded = await recordStaged(pool, passId, from, to, () => heartbeat(from));
      inserted += recorded.inserted;
      refused += recorded.refused.length;
      if (recorded.refused.length > 0) {
        log.error('PostgreSQL refused payouts the parser accepted: quarantined, the rest recorded', {
          passId,
          refused: recorded.refused.slice(0, 20),
        });
      }
      heartbeat(to);
    }
    metrics?.payoutsRecorded.inc(inserted);
    metrics?.payoutsRejected.inc(refused);
    log.info('recorded payouts', { passId, inserted, refused });
    return { inserted, refused };
  };
}
