import { createHash } from 'node:crypto';
import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import {
  beginPass,
  dropOlderPasses,
  finishPass,
  flagSettleInError,
  refreshPassStatistics,
  settleQuarantined,
  stagePayouts,
  stageRejected,
  stageSettleCandidates,
  type RefusedBefore,
  type StagedRejection,
} from '../db/payout-store.js';
import { jsonbText, pgText } from '../db/pg-text.js';
import { fenceHolder, holdOptions, workflowOfActivity } from '../fence/hold-in-activity.js';
import {
  isUuid,
  listedUuids,
  parsePartnerPayout,
  type Payout,
  type RejectedPayout,
} from '../partner/payout-parser.js';
import { STRAY_SYNC_ERROR, type FetchInput, type PassPlan } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';

/** Entries parsed per batch while the list streams; one is staged while the next is parsed. */
const STAGE_BATCH = 1_000;

/**
 * FetchTransactions: the pass's one list of `notifying` payouts, taken inside the fence (no call
 * of anyone's is in flight meanwhile) and staged in PostgreSQL as it streams: validated, one
 * batch staged while the next is parsed. Also finds the recorded rows the list proves were
 * applied (their answer was lost), which SettleApplied confirms, and records the quarantined
 * payouts whose `error` it proves applied. It changes no payout's state at the partner.
 * Absorbs: the partner's 500s and timeouts (thrown, retried by the activity's retry policy).
 * Idempotent: a retry takes a new list in a new pass; the older pass can then no longer send.
 */
export function createFetchTransactions({
  pool,
  expenzy,
  fence,
  batchSize,
  syncWorkflowId,
  metrics,
}: ActivityDependencies) {
  return async function FetchTransactions(input: FetchInput): Promise<PassPlan> {
    const { workflowId, runId } = workflowOfActivity();
    if (workflowId !== syncWorkflowId) {
      throw ApplicationFailure.nonRetryable(
        `this sync runs under workflow id "${workflowId}", but the configured SYNC_WORKFLOW_ID is "${syncWorkflowId}": only that workflow may sync payouts`,
        STRAY_SYNC_ERROR,
      );
    }
    return fence.hold(
      fenceHolder(),
      async (tenure) => {
        const { passId, epoch } = await beginPass(tenure.session, {
          workflowId,
          runId,
          workflowPass: input.pass,
        });
        // Alongside the list: the older passes' staged rows are not read again.
        const dropped = dropOlderPasses(pool, passId);
        dropped.catch(() => undefined); // awaited below; its failure fails the pass there
        let payoutSeq = 0;
        let rejectedSeq = 0;
        let payouts = 0;
        let rejected = 0;
        let oldest: string | undefined;
        /** Stages one parsed batch, in list order: its valid payouts, then its malformed ones. */
        const stage = async (batch: ReturnType<typeof partition>) => {
          // Payouts PostgreSQL once refused to record are not staged as valid: as malformed.
          const refusedBefore = await stagePayouts(pool, passId, payoutSeq, batch.payouts);
          const refusedIds = new Set(refusedBefore.map((refusal) => refusal.expenzyUuid));
          const toQuarantine = [
            ...batch.rejected.map(staged),
            ...refusedBefore.map((refusal) => stagedRefused(refusal, batch.rawOf.get(refusal.expenzyUuid))),
          ];
          await stageRejected(pool, passId, rejectedSeq, toQuarantine);
          payoutSeq += batch.payouts.length;
          rejectedSeq += toQuarantine.length;
          payouts += batch.payouts.length - refusedBefore.length;
          rejected += toQuarantine.length;
          for (const payout of batch.payouts) {
            if (refusedIds.has(payout.expenzyId)) continue;
            if (!oldest || payout.createTime < oldest) oldest = payout.createTime;
          }
          heartbeat();
        };
        // One batch is staged while the next is read and parsed: at most two batches in memory.
        let staging: Promise<void> = Promise.resolve();
        let listed: number;
        try {
          listed = await expenzy.forEachListed(
            'notifying',
            STAGE_BATCH,
            async (entries) => {
              await tenure.assertHeld();
              const batch = partition(entries);
              await staging;
              staging = stage(batch);
              staging.catch(() => undefined); // its failure surfaces with the next batch, or below
            },
            tenure.signal,
          );
        } catch (error) {
          // nothing of this pass is left running
          await Promise.all([staging.catch(() => undefined), dropped.catch(() => undefined)]);
          throw error;
        }
        await staging;
        await dropped;

        // Stale statistics cost a pass of one chunk nothing (its chunk is the whole pass), but
        // make every chunk of a larger one scan the whole pass; ANALYZE is worth its time there.
        if (payouts + rejected > batchSize) await refreshPassStatistics(pool);
        const settle = await stageSettleCandidates(pool, passId);
        if (settle > 0) {
          // Rare (an answer was lost): only then is the `error` list worth its cost.
          await expenzy.forEachListed(
            'error',
            STAGE_BATCH,
            (entries) => flagSettleInError(pool, passId, listedUuids(entries)),
            tenure.signal,
          );
        }
        // A quarantined payout's lost `error` answer, proved applied by this list.
        const quarantineSettled = await settleQuarantined(pool, passId);
        await tenure.assertHeld();
        await finishPass(tenure.session, passId, { listed, payouts, rejected, settle });

        metrics?.observeBacklog(payouts, oldest);
        log.info('listed notifying payouts inside the fence', {
          passId,
          epoch,
          listed,
          payouts,
          rejected,
          settle,
          quarantineSettled,
        });
        return {
          passId,
          epoch,
          payouts,
          payoutSeqEnd: payoutSeq,
          rejected,
          rejectedSeqEnd: rejectedSeq,
          settle,
          chunkSize: batchSize,
        };
      },
      holdOptions(),
    );
  };
}

function partition(entries: unknown[]) {
  const payouts = new Map<string, Payout>();
  /** The listed JSON of each valid payout, for one PostgreSQL refused before (stagedRefused). */
  const rawOf = new Map<string, unknown>();
  const rejected: RejectedPayout[] = [];
  for (const raw of entries) {
    const parsed = parsePartnerPayout(raw);
    if (parsed.kind === 'payout' && !payouts.has(parsed.payout.expenzyId)) {
      payouts.set(parsed.payout.expenzyId, parsed.payout);
      rawOf.set(parsed.payout.expenzyId, raw);
    }
    if (parsed.kind === 'rejected') rejected.push(parsed.rejected);
  }
  return { payouts: [...payouts.values()], rawOf, rejected };
}

const MAX_RAW_CHARS = 4_096;
const MAX_ID_CHARS = 100;

/** A malformed payout as staged: its raw JSON bounded (a prefix), fingerprinted, storable. */
function staged(rejected: RejectedPayout): StagedRejection {
  const raw = bounded(rejected.raw);
  const id = rejected.expenzyId;
  const expenzyId = id !== null && id.length <= MAX_ID_CHARS ? pgText(id) : null;
  return {
    rawSha256: rawFingerprint(raw),
    expenzyId,
    expenzyUuid: expenzyId !== null && isUuid(expenzyId) ? expenzyId.toLowerCase() : null,
    rawJson: jsonbText(raw),
    reason: pgText(rejected.reason),
  };
}

/**
 * A valid payout PostgreSQL once refused to record, staged as malformed under the fingerprint of
 * the row RecordPayout kept for it: QuarantinePayouts finds that row and sets the payout to
 * `error`, as for any malformed payout.
 */
function stagedRefused(refusal: RefusedBefore, raw: unknown): StagedRejection {
  return {
    rawSha256: refusal.rawSha256,
    expenzyId: refusal.expenzyUuid,
    expenzyUuid: refusal.expenzyUuid,
    rawJson: jsonbText(bounded(raw)),
    reason: refusal.reason,
  };
}

function bounded(raw: unknown): unknown {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length <= MAX_RAW_CHARS
    ? raw
    : { truncated: text.slice(0, MAX_RAW_CHARS), length: text.length };
}

function rawFingerprint(raw: unknown): string {
  return createHash('sha256').update(JSON.stringify(raw)).digest('hex');
}
