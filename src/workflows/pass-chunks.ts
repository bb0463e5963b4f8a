import type { PassPlan, PassRange } from './sync-contract.js';

/** How many MarkProcessing (or QuarantinePayouts) steps a staged range of a pass takes. */
export const chunkCount = (seqEnd: number, chunkSize: number): number => Math.ceil(seqEnd / chunkSize);

/**
 * The n-th chunk of a pass's staged range, oldest first: the partner lists newest first, so the
 * oldest payouts sit at the end of the seq range.
 */
export function oldestChunk(plan: PassPlan, seqEnd: number, chunksDone: number): PassRange {
  const toSeq = seqEnd - chunksDone * plan.chunkSize;
  return { passId: plan.passId, epoch: plan.epoch, fromSeq: Math.max(0, toSeq - plan.chunkSize), toSeq };
}

/**
 * Chunks recorded by one RecordPayout ahead of marking: the pass's first update waits for one
 * window, not for every payout of a large list to be recorded.
 */
export const RECORD_WINDOW_CHUNKS = 5;

/** The window of the pass's payouts to record before the chunk `chunksDone` is marked. */
export function recordWindow(plan: PassPlan, chunksDone: number): { fromSeq: number; toSeq: number } {
  const first = oldestChunk(plan, plan.payoutSeqEnd, chunksDone);
  const last = oldestChunk(plan, plan.payoutSeqEnd, chunksDone + RECORD_WINDOW_CHUNKS - 1);
  return { fromSeq: last.fromSeq, toSeq: first.toSeq };
}
