import { createHash } from 'node:crypto';
import { ApplicationFailure, heartbeat, log } from '@temporalio/activity';
import { PayoutStage, type RefusedBefore } from '../db/payout-stage.js';
import {
  beginPass,
  dropOlderPasses,
  dropSettleCandidates,
  finishPass,
  flagSettleInError,
  refreshPassStatistics,
  settleQuarantined,
  stageRejected,
  stageSettleCandidates,
  type StagedRejection,
} from '../db/payout-store.js';
import { jsonbText, pgText } from '../db/pg-text.js';
import { fenceHolder, holdOptions, workflowOfActivity } from '../fence/hold-in-activity.js';
import type { Tenure } from '../fence/sync-fence.js';
import type { ListOutcome } from '../partner/expenzy-client.js';
import {
  isUuid,
  listedUuids,
  parsePartnerPayout,
  type Payout,
  type RejectedPayout,
} from '../partner/payout-parser.js';
import { STRAY_SYNC_ERROR, type FetchInput, type PassPlan } from '../workflows/sync-contract.js';
import type { ActivityDependencies } from './dependencies.js';
import { heartbeatWhile } from './heartbeat-while.js';

/** Entries parsed per batch while the list streams; one is staged while the next is parsed. */
const STAGE_BATCH = 1_000;

/**
 * FetchTransactions: the pass's one list of `notifying` payouts, taken inside the fence (no call
 * of anyone's is in flight meanwhile) and staged in PostgreSQL as it streams: validated, one
 * batch staged while the next is parsed. Also finds the recorded rows the list proves were
 * applied (their answer was lost), which SettleApplied confirms, and records the quarantined
 * payouts whose `error` it proves applied. It changes no payout's state at the partner.
 * A list longer than a cap (EXPENZY_MAX_LIST_RESPONSE_BYTES, EXPENZY_LIST_TIMEOUT) is cut: the
 * pass handles what it read (`listCut`: the workflow lists again right after), and settles
 * nothing, since a cut list proves nothing by what it does not show.
 * Absorbs: the partner's 500s and silences (thrown, retried by the activity's retry policy).
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
        // In the background: the older passes' staged rows are not read again, and deleting a
        // million of them takes a while. A failure is logged; the next pass deletes them again.
        void dropOlderPasses(pool, passId).catch((error: unknown) =>
          log.warn("older passes' staged rows not dropped: the next pass tries again", {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
        const stage = await PayoutStage.open(pool);
        let staged: Staged;
        let list: ListOutcome;
        try {
          // The partner builds a large list for seconds before its first byte.
          ({ staged, list } = await heartbeatWhile(() => listAndStage(passId, stage, tenure)));
          await heartbeatWhile(() => stage.finish());
        } catch (error) {
          stage.abort(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
        const { payouts, rejected } = staged;

        // Stale statistics cost a pass of one chunk nothing (its chunk is the whole pass), but
        // make every chunk of a larger one scan the whole pass; ANALYZE is worth its time there.
        if (payouts + rejected > batchSize) await heartbeatWhile(() => refreshPassStatistics(pool));
        // A cut list proves nothing by what it does not show: no settling from it.
        const settle = list.cut ? 0 : await heartbeatWhile(() => settleCandidates(passId, tenure));
        const quarantineSettled = list.cut ? 0 : await heartbeatWhile(() => settleQuarantined(pool, passId));
        await tenure.assertHeld();
        await finishPass(tenure.session, passId, { listed: list.entries, payouts, rejected, settle });

        metrics?.observeBacklog(payouts, staged.oldest);
        if (list.cut) {
          metrics?.listsCut.inc();
          log.warn('the list was cut at a cap: this pass handles what it read, the next lists again', {
            passId,
            cut: list.cut,
            listed: list.entries,
            cap: list.cut === 'size' ? 'EXPENZY_MAX_LIST_RESPONSE_BYTES' : 'EXPENZY_LIST_TIMEOUT',
          });
        }
        log.info('listed notifying payouts inside the fence', {
          passId,
          epoch,
          listed: list.entries,
          payouts,
          rejected,
          settle,
          quarantineSettled,
        });
        return {
          passId,
          epoch,
          payouts,
          payoutSeqEnd: staged.payoutSeq,
          rejected,
          rejectedSeqEnd: staged.rejectedSeq,
          settle,
          chunkSize: batchSize,
          ...(list.cut ? { listCut: true } : {}),
        };
      },
      holdOptions(),
    );
  };

  /**
   * The pass's list, streamed: each batch parsed and validated, then staged (its valid payouts
   * through the COPY, its malformed ones beside them) while the next is read. At most two
   * batches are in memory, whatever the list's size.
   */
  async function listAndStage(passId: number, stage: PayoutStage, tenure: Tenure) {
    const staged: Staged = { payoutSeq: 0, rejectedSeq: 0, payouts: 0, rejected: 0, oldest: undefined };
    const stageBatch = async (batch: ReturnType<typeof partition>) => {
      // Payouts PostgreSQL once refused to record are not staged as valid: as malformed.
      const refusedBefore = await stage.write(pool, passId, staged.payoutSeq, batch.payouts);
      const refusedIds = new Set(refusedBefore.map((refusal) => refusal.expenzyUuid));
      const toQuarantine = [
        ...batch.rejected.map(stagedRejection),
        ...refusedBefore.map((refusal) => stagedRefused(refusal, batch.rawOf.get(refusal.expenzyUuid))),
      ];
      await stageRejected(pool, passId, staged.rejectedSeq, toQuarantine);
      staged.payoutSeq += batch.payouts.length;
      staged.rejectedSeq += toQuarantine.length;
      staged.payouts += batch.payouts.length - refusedBefore.length;
      staged.rejected += toQuarantine.length;
      for (const payout of batch.payouts) {
        if (refusedIds.has(payout.expenzyId)) continue;
        if (!staged.oldest || payout.createTime < staged.oldest) staged.oldest = payout.createTime;
      }
      heartbeat();
    };
    let staging: Promise<void> = Promise.resolve();
    try {
      const list = await expenzy.forEachListed(
        'notifying',
        STAGE_BATCH,
        async (entries) => {
          await tenure.assertHeld();
          const batch = partition(entries);
          await staging;
          staging = stageBatch(batch);
          staging.catch(() => undefined); // its failure surfaces with the next batch, or below
        },
        tenure.signal,
      );
      await staging;
      return { staged, list };
    } finally {
      await staging.catch(() => undefined);
    }
  }

  /**
   * Recorded rows the list proves applied, staged for SettleApplied. Only when there are any is
   * the `error` list worth its cost: those it shows are not ours to confirm. A cut `error` list
   * cannot tell which: then nothing is settled by this pass.
   */
  async function settleCandidates(passId: number, tenure: Tenure): Promise<number> {
    const candidates = await stageSettleCandidates(pool, passId);
    if (candidates === 0) return 0;
    const inError = await expenzy.forEachListed(
      'error',
      STAGE_BATCH,
      async (entries) => {
        await flagSettleInError(pool, passId, listedUuids(entries));
        heartbeat();
      },
      tenure.signal,
    );
    if (inError.cut) {
      await dropSettleCandidates(pool, passId);
      return 0;
    }
    return candidates;
  }
}

/** What a pass staged so far. */
interface Staged {
  payoutSeq: number;
  rejectedSeq: number;
  payouts: number;
  rejected: number;
  oldest: string | undefined;
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
function stagedRejection(rejected: RejectedPayout): StagedRejection {
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
