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
