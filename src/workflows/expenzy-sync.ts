import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import {
  RECONCILE_INTERVAL_BOUNDS,
  STRAY_SYNC_ERROR,
  payoutsAvailableSignal,
  statusQuery,
  workerSettingsSignal,
  type FetchInput,
  type MarkResult,
  type OpenPass,
  type PassPlan,
  type PassRange,
  type SyncCounters,
  type SyncInput,
  type SyncSettings,
  type SyncStatus,
} from './sync-contract.js';
import { fetchOptions, markOptions, recordOptions } from './activity-options.js';
import { orLeaveToNextPass } from './leave-to-next-pass.js';
import { chunkCount, oldestChunk, recordWindow } from './pass-chunks.js';
import { runUnfencedPass } from './unfenced-pass.js';

const { FetchTransactions } = proxyActivities<SyncActivities>(fetchOptions);
const { RecordPayout, SettleApplied } = proxyActivities<SyncActivities>(recordOptions);
const { MarkProcessing, QuarantinePayouts } = proxyActivities<SyncActivities>(markOptions);

/**
 * A run continues as new after this many passes at most. A pass adds ten events or more, so the
 * history bound below ends a run first; this one holds should a pass ever get cheaper.
 */
export const MAX_PASSES_PER_RUN = 100;
/**
 * ... or once its history has this many events (signals add up under webhook floods). A signal
 * that lands during the continue-as-new fails that workflow task, and its retry replays the
 * whole run: a short history keeps that pause, during which webhooks wait, well under a second.
 */
export const MAX_HISTORY_EVENTS = 1_000;

/**
 * The singleton sync. A webhook's signal asks for a pass; a pass fetches the oldest batch of
 * `notifying` payouts, records them, and marks them `processing`. Passes repeat while work
 * remains or a signal came in meanwhile; without signals a reconciliation pass still runs
 * every `reconcileIntervalMs`, because Expenzy never retries a lost webhook.
 */
export async function expenzySync(input: SyncInput): Promise<void> {
  const counters: SyncCounters = input.counters ?? {
    passes: 0,
    recorded: 0,
    marked: 0,
    rejected: 0,
    signals: 0,
  };
  const status: SyncStatus = {
    ...counters,
    pending: input.pending ?? true,
    passRunning: false,
    lastPassStartedAt: null,
    lastPassEndedAt: null,
    lastBacklog: 0,
    runPasses: 0,
    reconcileIntervalMs: input.reconcileIntervalMs,
  };

  setHandler(payoutsAvailableSignal, () => {
    status.pending = true;
    counters.signals++;
  });
  setHandler(workerSettingsSignal, (settings) => {
    // A worker of the previous version, without this handler, may have taken such a signal
    // during a rolling deploy: for it, the signal changed nothing, and so it must in replay.
    if (!patched('worker-settings-signal')) return;
    applySettings(status, settings);
    status.pending = true; // a worker just started: look at the list now
  });
  setHandler(statusQuery, () => ({ ...status, ...counters }));

  let openPass = input.openPass;
  let failureBackoffMs = 0;
  for (;;) {
    if (!openPass) await condition(() => status.pending, status.reconcileIntervalMs);
    let more = true;
    while ((openPass || more || status.pending) && !runIsFull(status)) {
      if (!openPass) status.pending = false;
      const outcome = await runPass(counters, status, openPass);
      openPass = outcome.open;
      more = outcome.more;
      // A partner refusing every call is not hammered by the passes webhooks ask for.
      failureBackoffMs = outcome.failedWhole ? nextBackoff(failureBackoffMs) : 0;
      if (failureBackoffMs > 0) await sleep(failureBackoffMs);
    }
    if (runIsFull(status)) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof expenzySync>({
        reconcileIntervalMs: status.reconcileIntervalMs,
        counters,
        pending: status.pending || more,
        openPass,
      });
    }
  }
}

/** After a pass whose every partner call failed: 200 ms, doubling up to 30 s, until one gets through. */
const nextBackoff = (previousMs: number) => Math.min(Math.max(previousMs * 2, 200), 30_000);

/** Takes a worker's settings; a value out of bounds is logged and left out. */
function applySettings(status: SyncStatus, settings: SyncSettings | undefined): void {
  const ms = settings?.reconcileIntervalMs;
  const { minMs, maxMs } = RECONCILE_INTERVAL_BOUNDS;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < minMs || ms > maxMs) {
    log.warn('worker settings ignored: reconcileIntervalMs out of bounds', { settings });
    return;
  }
  if (ms !== status.reconcileIntervalMs) {
    log.info('reconciliation interval changed', { from: status.reconcileIntervalMs, to: ms });
    status.reconcileIntervalMs = ms;
  }
}

/** What a pass leaves: whether another should follow at once, and a pass the run could not finish. */
interface PassOutcome {
  more: boolean;
  open?: OpenPass;
  /** The partner failed every call of the pass: wait before the next. */
  failedWhole: boolean;
}

/**
 * One pass: one list of `notifying` payouts taken inside the fence (FetchTransactions), the
 * recorded rows it proves were applied confirmed (SettleApplied), every valid payout it holds
 * recorded (RecordPayout) and marked, oldest first, one chunk per MarkProcessing, then the
 * malformed ones quarantined. Everything listed is handled before the next list.
 */
async function runPass(counters: SyncCounters, status: SyncStatus, resume?: OpenPass): Promise<PassOutcome> {
  status.passRunning = true;
  status.lastPassStartedAt = new Date().toISOString();
  let pass: OpenPass;
  if (resume) {
    pass = resume;
  } else if (!patched('fenced-pass')) {
    const { more, backlog } = await runUnfencedPass(counters);
    return endPass(counters, status, backlog, { more, failedWhole: false });
  } else {
    pass = await startPass(counters);
  }

  const { plan } = pass;
  const marking = await eachChunk(
    pass,
    'payoutChunksDone',
    plan.payoutSeqEnd,
    status,
    async (range) => {
      await recordAhead(counters, pass, range);
      return MarkProcessing(range);
    },
    (marked, range) => {
      counters.marked += marked.marked;
      pass.progressed ||= marked.marked > 0;
      pass.retryLater = passLeftAfter(range, marked) ?? pass.retryLater + marked.retryLater;
      if (marked.refused > 0)
        log.warn('payouts the partner refused to mark', { refused: marked.refusedSample });
    },
  );
  if (marking === 'run full') return { more: true, open: pass, failedWhole: false };
  const quarantine = await eachChunk(
    pass,
    'rejectedChunksDone',
    plan.rejectedSeqEnd,
    status,
    QuarantinePayouts,
    (quarantined) => {
      counters.rejected += quarantined.quarantined;
      pass.progressed ||= quarantined.quarantined + quarantined.setToError > 0;
      pass.retryLater += quarantined.retryLater;
    },
  );
  if (quarantine === 'run full') return { more: true, open: pass, failedWhole: false };
  return endPass(counters, status, plan.payouts, {
    // A cut list left payouts unlisted: the next pass lists them now, as long as passes progress.
    more: (pass.retryLater > 0 || plan.listCut === true) && pass.progressed,
    failedWhole: pass.retryLater > 0 && !pass.progressed,
  });
}

/**
 * Runs the pass's chunks of one kind (`done` counts them), oldest first, from where it got to.
 * A chunk whose call failed for good, or that found the fence moved, ends them: the next pass
 * lists again. 'run full' when the run must continue as new first (the pass stays open).
 */
async function eachChunk<R extends { fenceMoved: boolean }>(
  pass: OpenPass,
  done: 'payoutChunksDone' | 'rejectedChunksDone',
  seqEnd: number,
  status: SyncStatus,
  step: (range: PassRange) => Promise<R>,
  take: (result: R, range: PassRange) => void,
): Promise<'run full' | 'ended'> {
  while (pass[done] < chunkCount(seqEnd, pass.plan.chunkSize)) {
    if (runIsFull(status)) return 'run full';
    const range = oldestChunk(pass.plan, seqEnd, pass[done]);
    const result = await orLeaveToNextPass(step(range), range.toSeq - range.fromSeq);
    pass[done]++;
    if (!result || result.fenceMoved) {
      pass.retryLater++;
      break;
    }
    take(result, range);
  }
  return 'ended';
}

/**
 * What the whole pass leaves to the next one, when its last chunk says: that chunk sends again,
 * from new lists, what the pass's earlier chunks got no verdict for, and counts what is still left
 * (src/fence/resend-rounds.ts). Undefined for any other chunk, and for a result without `resent`.
 */
function passLeftAfter(range: PassRange, marked: MarkResult): number | undefined {
  if (range.fromSeq !== 0 || marked.resent === undefined) return undefined;
  // patched(): a history whose workflow did not take this count replays as it ran.
  return patched('last-chunk-counts-the-pass') ? marked.retryLater : undefined;
}

/** The pass's list, its settlements and its recording: money first, before any partner update. */
async function startPass(counters: SyncCounters): Promise<OpenPass> {
  const plan = await fetchOrEndStray({ pass: counters.passes + 1 });
  const pass: OpenPass = {
    plan,
    payoutChunksDone: 0,
    rejectedChunksDone: 0,
    progressed: false,
    retryLater: 0,
  };
  if (plan.settle > 0) {
    const settled = await SettleApplied({ passId: plan.passId });
    counters.marked += settled.settled;
    pass.progressed ||= settled.settled > 0;
  }
  // patched(): a history whose passes recorded every payout before marking replays as it ran.
  if (plan.payouts > 0 && !patched('record-by-window')) {
    const recorded = await RecordPayout({ passId: plan.passId, payoutSeqEnd: plan.payoutSeqEnd });
    counters.recorded += recorded.inserted;
    pass.progressed ||= recorded.inserted > 0;
    pass.recordedFromSeq = 0;
  }
  return pass;
}

/**
 * Before a chunk is marked, its payouts are recorded: a window of chunks at a time, oldest first,
 * so that a pass over a large list starts marking after one window rather than the whole list.
 */
async function recordAhead(counters: SyncCounters, pass: OpenPass, range: PassRange): Promise<void> {
  const recordedFrom = pass.recordedFromSeq ?? pass.plan.payoutSeqEnd;
  if (range.fromSeq >= recordedFrom || !patched('record-by-window')) return;
  const window = recordWindow(pass.plan, pass.payoutChunksDone);
  const recorded = await RecordPayout({
    passId: pass.plan.passId,
    fromSeq: window.fromSeq,
    payoutSeqEnd: Math.min(window.toSeq, recordedFrom),
  });
  counters.recorded += recorded.inserted;
  pass.progressed ||= recorded.inserted > 0;
  pass.recordedFromSeq = window.fromSeq;
}

/** A run under another workflow id than the configured one ends here, with the reason. */
async function fetchOrEndStray(input: FetchInput): Promise<PassPlan> {
  try {
    return await FetchTransactions(input);
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === STRAY_SYNC_ERROR) {
      throw ApplicationFailure.nonRetryable(cause.message ?? 'stray sync workflow', STRAY_SYNC_ERROR);
    }
    throw error;
  }
}

function endPass(
  counters: SyncCounters,
  status: SyncStatus,
  backlog: number,
  outcome: PassOutcome,
): PassOutcome {
  counters.passes++;
  status.runPasses++;
  status.lastBacklog = backlog;
  status.passRunning = false;
  status.lastPassEndedAt = new Date().toISOString();
  return outcome;
}

function runIsFull(status: SyncStatus): boolean {
  if (status.runPasses >= MAX_PASSES_PER_RUN || workflowInfo().continueAsNewSuggested) return true;
  // patched(): a history whose workflow did not take this count replays as it ran.
  return patched('bound-history-length') && workflowInfo().historyLength >= MAX_HISTORY_EVENTS;
}
