/**
 * What the API, the worker and the workflow share: names, the signal and query, and the
 * small payloads that cross Temporal. Imported by workflow code, so no Node imports here.
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

/** A payout as Holvi stores it, validated and normalised. Money stays a decimal string. */
export interface Payout {
  expenzyId: string;
  /** Two decimals, e.g. "12.30". */
  amount: string;
  /** UTC, ISO 8601 with the partner's fraction kept (up to microseconds), e.g. 2026-11-26T10:00:00.123456Z. */
  createTime: string;
  recipient: string;
}

/** A payout the partner listed that failed validation; quarantined, never recorded. */
export interface RejectedPayout {
  /** The id as the partner sent it, when there was a string id at all. */
  expenzyId: string | null;
  reason: string;
  /** The JSON object exactly as listed. */
  raw: unknown;
}

export interface FetchResult {
  /**
   * Oldest first: up to the batch size of payouts Holvi has not recorded, then up to the batch
   * size of recorded ones whose update is not confirmed yet (see choose-batch.ts).
   */
  payouts: Payout[];
  /** Newly seen malformed payouts (those already quarantined are left out). */
  rejected: RejectedPayout[];
  /** Unrecorded valid payouts in `notifying` that did not fit in this batch. */
  remaining: number;
  /** Rows confirmed without a call: the partner had applied an update whose answer was lost. */
  settled?: number;
}

export interface MarkResult {
  marked: number;
  /** Already `processing` at the partner (applied by an earlier attempt whose answer was lost). */
  alreadyProcessing: number;
  /** Given ids not (yet) in Holvi's table, or already confirmed: nothing to do. */
  skipped: number;
  /** Failed transiently (500, timeout): still `notifying`, so the next pass takes them again. */
  retryLater: number;
  /** Payouts the partner refused for good, with the reason (kept for the next pass and for people). */
  failed: { expenzyId: string; reason: string }[];
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
}
