/**
 * The sync workflow's contract: its type name, signals and query, its input, and every
 * activity's input and result. The API, the worker, the activities and the workflow import it;
 * workflow code does too, so no Node imports here.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const SYNC_WORKFLOW_TYPE = 'expenzySync';

/** "Expenzy says payouts may be waiting": sent (coalesced) for webhooks. */
export const payoutsAvailableSignal = defineSignal('payoutsAvailable');
/**
 * "A worker started with these settings": sent by each worker at start-up. The workflow applies
 * them (a running sync learns a changed RECONCILE_INTERVAL) and runs a pass.
 */
export const workerSettingsSignal = defineSignal<[SyncSettings]>('workerSettings');
export const statusQuery = defineQuery<SyncStatus>('status');

/** FetchTransactions' input: the workflow's own pass number, kept with the pass for people. */
export interface FetchInput {
  pass: number;
}

/**
 * What one list taken inside the fence holds, staged in PostgreSQL (holvi_pass_*): the later
 * steps get this pass's id and ranges of its seq, never payouts, so no payload grows with it.
 */
export interface PassPlan {
  passId: number;
  /** The fence's epoch the list was taken in: the pass may send only while it is still current. */
  epoch: number;
  /** Valid `notifying` payouts staged, at seq 0 ≤ seq < payoutSeqEnd (the partner's order, newest first). */
  payouts: number;
  payoutSeqEnd: number;
  /** Malformed payouts staged, at seq 0 ≤ seq < rejectedSeqEnd. */
  rejected: number;
  rejectedSeqEnd: number;
  /** Recorded rows the list proves the partner applied (answer lost): SettleApplied confirms them. */
  settle: number;
  /** Payouts per MarkProcessing or QuarantinePayouts (FETCH_BATCH_SIZE). */
  chunkSize: number;
  /** The list was cut at a cap: more payouts wait than it showed, so another pass follows at once. */
  listCut?: boolean;
}

export interface PassRef {
  passId: number;
}

/** RecordPayout's input: the pass and a range of its staged payouts' seq (from 0 when no `fromSeq`). */
export interface RecordInput extends PassRef {
  payoutSeqEnd: number;
  fromSeq?: number;
}

/** A range of one pass's staged seq, for a step that sends; `epoch` is checked inside the fence. */
export interface PassRange extends PassRef {
  epoch: number;
  fromSeq: number;
  toSeq: number;
}

export interface RecordResult {
  inserted: number;
  /** Refused by PostgreSQL, kept in holvi_rejected_payout instead (optional: not every recorded result has it). */
  refused?: number;
}

export interface SettleResult {
  settled: number;
  /** Listed as `error` at the partner: left unconfirmed, for a person. */
  inError: number;
}

export interface MarkResult {
  marked: number;
  /**
   * Failed transiently (500, timeout, fence lost): the next pass's list decides again. The pass's
   * last chunk counts every payout of its pass left so (up to a chunk and one).
   */
  retryLater: number;
  /** Refused for good ([] or 404), kept on the row (processing_failure); the next pass tries again. */
  refused: number;
  /** At most ten of them, for the history. */
  refusedSample: { expenzyId: string; reason: string }[];
  /** Listed but not recorded, confirmed already, or sent within this list already: nothing to send. */
  skipped: number;
  /** Sent again by the pass's last chunk, from new lists that still showed them (src/fence/resend-rounds.ts). */
  resent?: number;
  /** Another list was taken since this pass's: nothing was sent, the pass ends. */
  fenceMoved: boolean;
}

/** A MarkProcessing result that counts nothing yet: what one range's outcomes are added to. */
export const noMarks = (): MarkResult => ({
  marked: 0,
  retryLater: 0,
  refused: 0,
  refusedSample: [],
  skipped: 0,
  resent: 0,
  fenceMoved: false,
});

export interface QuarantineResult {
  quarantined: number;
  setToError: number;
  /** Could not be set to `error` for good (no usable id, partner refused); kept with the reason. */
  unsettled: number;
  /** Failed transiently: a later pass tries again. */
  retryLater: number;
  fenceMoved: boolean;
}

export interface SyncCounters {
  passes: number;
  recorded: number;
  marked: number;
  rejected: number;
  signals: number;
}

export interface SyncStatus extends SyncCounters {
  pending: boolean;
  passRunning: boolean;
  lastPassStartedAt: string | null;
  lastPassEndedAt: string | null;
  lastBacklog: number;
  runPasses: number;
  reconcileIntervalMs: number;
}

/** The reconciliation interval the workflow accepts (also RECONCILE_INTERVAL's bounds). */
export const RECONCILE_INTERVAL_BOUNDS = { minMs: 1_000, maxMs: 24 * 60 * 60 * 1_000 };

export interface SyncSettings {
  /** Without a signal, a reconciliation pass runs this often (webhooks are not retried by Expenzy). */
  reconcileIntervalMs: number;
}

export interface SyncInput extends SyncSettings {
  /** Carried across continue-as-new. */
  counters?: SyncCounters;
  pending?: boolean;
  /** A pass the previous run had not finished when its history grew long: this run goes on with it. */
  openPass?: OpenPass;
}

/** A pass in progress: its plan and how far it got (a few numbers, whatever the backlog). */
export interface OpenPass {
  plan: PassPlan;
  /** MarkProcessing chunks done, counted oldest first. */
  payoutChunksDone: number;
  rejectedChunksDone: number;
  progressed: boolean;
  retryLater: number;
  /** Payouts from this seq on are recorded (they are recorded oldest first, a window at a time). */
  recordedFromSeq?: number;
}

/** FetchTransactions' error type for a workflow that is not the configured sync (it then ends). */
export const STRAY_SYNC_ERROR = 'StraySyncWorkflow';
