import { activityInfo, heartbeat, log } from '@temporalio/activity';
import { recordStaged } from '../db/payout-store.js';
import type { PassRef, RecordResult } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';

/** Staged payouts inserted per statement: short statements, and a heartbeat between them. */
const RECORD_CHUNK = 5_000;

export interface RecordInput extends PassRef {
  payoutSeqEnd: number;
}

/**
 * RecordPayout: stores every payout a pass staged in holvi_received_payout, inside PostgreSQL
 * (INSERT … SELECT from the stage), a few thousand per statement.
 * Absorbs: any retry (a crash after commit, a lost completion): the unique constraint on
 * expenzy_uuid plus ON CONFLICT DO NOTHING make a repeat insert a no-op, and a retry resumes
 * after the last chunk it reported. Needs no fence: it sends nothing to the partner.
 */
export function createRecordPayout({ pool, metrics }: ActivityDependencies) {
  return async function RecordPayout({ passId, payoutSeqEnd }: RecordInput): Promise<RecordResult> {
    const resumeFrom = Number(activityInfo().heartbeatDetails ?? 0);
    let inserted = 0;
    for (let from = resumeFrom; from < payoutSeqEnd; from += RECORD_CHUNK) {
      inserted += await recordStaged(pool, passId, from, from + RECORD_CHUNK);
      heartbeat(from + RECORD_CHUNK);
    }
    metrics?.payoutsRecorded.inc(inserted);
    log.info('recorded payouts', { passId, inserted });
    return { inserted };
  };
}
