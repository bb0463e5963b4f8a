import {
  Client,
  Connection,
  WorkflowNotFoundError,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type GrpcRetryOptions,
} from '@temporalio/client';
import type { Config } from '../config.js';
import {
  SYNC_WORKFLOW_TYPE,
  payoutsAvailableSignal,
  workerSettingsSignal,
  type SyncInput,
  type SyncSettings,
} from '../workflows/sync-contract.js';

/** Which sync to signal, and how to start it when none runs. */
export type SyncTarget = Pick<Config, 'SYNC_WORKFLOW_ID' | 'TEMPORAL_TASK_QUEUE' | 'RECONCILE_INTERVAL'>;

/** What the API needs from Temporal; tests pass a fake. */
export interface SyncClient {
  /** Durably hands "payouts may be waiting" to the sync workflow, or throws. */
  requestSync(): Promise<void>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long a webhook waits for Temporal before answering 503 (Expenzy does not retry). */
const SIGNAL_DEADLINE_MS = 5_000;
const HEALTH_DEADLINE_MS = 2_000;

/** A lazily connected client: the API starts (and answers 503) while Temporal is down. */
export function createSyncClient(
  config: SyncTarget & Pick<Config, 'temporal' | 'TEMPORAL_NAMESPACE'>,
): SyncClient {
  const connection = Connection.lazy({
    ...config.temporal.connectionOptions,
    interceptors: [makeGrpcRetryInterceptor(signalRetryOptions())],
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return {
    requestSync: () =>
      connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => requestSync(client, config)),
    async healthy() {
      try {
        await connection.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () =>
          connection.healthService.check({}),
        );
        return true;
      } catch {
        return false;
      }
    },
    close: () => connection.close(),
  };
}

/**
 * Signal-with-start of the singleton sync: signals the running `expenzySync`, or starts it
 * (with the signal) when none runs. Resolves once Temporal has durably accepted the signal.
 * The plain signal is tried first because it is the common case and the cheaper call.
 */
export async function requestSync(client: Client, target: SyncTarget): Promise<void> {
  try {
    await client.workflow.getHandle(target.SYNC_WORKFLOW_ID).signal(payoutsAvailableSignal);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    await client.workflow.signalWithStart(SYNC_WORKFLOW_TYPE, {
      ...startOptions(target),
      signal: payoutsAvailableSignal,
      signalArgs: [],
    });
  }
}

/**
 * A worker's start-up call: makes sure the sync runs (so reconciliation runs even if every
 * webhook is lost), hands it this worker's settings and asks for a pass.
 */
export async function announceWorker(client: Client, target: SyncTarget): Promise<void> {
  const settings: SyncSettings = { reconcileIntervalMs: target.RECONCILE_INTERVAL };
  await client.workflow.signalWithStart(SYNC_WORKFLOW_TYPE, {
    ...startOptions(target),
    signal: workerSettingsSignal,
    signalArgs: [settings],
  });
}

function startOptions(target: SyncTarget) {
  const input: SyncInput = { reconcileIntervalMs: target.RECONCILE_INTERVAL };
  return { workflowId: target.SYNC_WORKFLOW_ID, taskQueue: target.TEMPORAL_TASK_QUEUE, args: [input] };
}

/** gRPC's RESOURCE_EXHAUSTED status code (the SDK does not re-export grpc-js's constants). */
const RESOURCE_EXHAUSTED = 8;

/** Waits before a signal refused because the sync is continuing as new is sent again: doubling. */
const CLOSING_FIRST_RETRY_MS = 25;
const CLOSING_MAX_RETRY_MS = 500;

/**
 * While the sync continues as new, Temporal refuses signals with RESOURCE_EXHAUSTED "workflow is
 * closing" until the new run exists, one workflow task later. The SDK's default backs off 1.7 s
 * and more on RESOURCE_EXHAUSTED (meant for rate limits), and every webhook that arrives meanwhile
 * waits behind that one signal. This retries that refusal within tens of milliseconds and leaves
 * every other error to the SDK's defaults (which attempts are retried, and how many).
 */
export function signalRetryOptions(): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return {
    retryableDecider: defaults.retryableDecider,
    delayFunction: (attempt, status) =>
      status.code === RESOURCE_EXHAUSTED && /workflow is closing/i.test(status.details ?? '')
        ? Math.min(CLOSING_FIRST_RETRY_MS * 2 ** (attempt - 1), CLOSING_MAX_RETRY_MS)
        : defaults.delayFunction(attempt, status),
  };
}
