import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { statusQuery, type SyncStatus } from '../../src/workflows/sync-contract.js';
import type { StackAddresses } from '../stack/stack.js';

/**
 * The runner's own connections to the stack it breaks: database pools for the report and the
 * resets, a Temporal client for the sync's status query, and small HTTP helpers. Each of them
 * survives the faults (a pool drops broken clients, every call is bounded in time).
 */
export interface StackClients {
  addresses: StackAddresses;
  /** holvi_app, as the services connect (the report reads with it). */
  holviPool: pg.Pool;
  /** holvi_owner, which may truncate Holvi's tables between scenarios. */
  ownerPool: pg.Pool;
  expenzyPool: pg.Pool;
  temporal: Client;
  /** The sync's status query, or null when it cannot be answered now (worker or server down). */
  syncStatus(timeoutMs?: number): Promise<SyncStatus | null>;
  /**
   * The sync's activities started and not finished, by type, as the server sees them (so it also
   * answers while the worker is down); with `workerPid`, only those that worker process runs
   * (its identity is PID@host). Null when the server cannot be asked.
   */
  runningActivities(workerPid?: number | null, timeoutMs?: number): Promise<string[] | null>;
  /** A run's pending activities (the sync's by default), as the server sees them; null when it cannot be asked. */
  pendingActivities(workflowId?: string, timeoutMs?: number): Promise<PendingActivity[] | null>;
  /** The status of a workflow's latest run ('RUNNING', 'FAILED', 'TERMINATED', …); null when there is none. */
  workflowStatus(workflowId: string, timeoutMs?: number): Promise<string | null>;
  close(): Promise<void>;
}

export interface PendingActivity {
  type: string;
  /** Running on a worker now; otherwise scheduled, waiting for a worker or for its retry. */
  started: boolean;
  attempt: number;
  /** The worker process that runs (or last ran) it: the PID of its identity PID@host. */
  workerPid: number | null;
}

export const SYNC_WORKFLOW_ID = process.env.SYNC_WORKFLOW_ID || 'expenzy-sync';
export const SYNC_TASK_QUEUE = process.env.TEMPORAL_TASK_QUEUE || 'expenzy-sync';
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED */
const STARTED = 2;

function pool(connectionString: string): pg.Pool {
  const created = new pg.Pool({ connectionString, max: 3, connectionTimeoutMillis: 5_000 });
  created.on('error', () => undefined); // an idle client broken by a restart is dropped
  return created;
}

export async function connectClients(addresses: StackAddresses): Promise<StackClients> {
  // A history's page can exceed gRPC's default 4 MB when payloads are near Temporal's 2 MB limit.
  const connection = await Connection.connect({
    address: addresses.temporalAddress,
    channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
  });
  const temporal = new Client({ connection });
  const holviPool = pool(addresses.holviAppUrl);
  const ownerPool = pool(addresses.holviOwnerUrl);
  const expenzyPool = pool(addresses.expenzyDbUrl);
  async function pendingActivities(
    workflowId = SYNC_WORKFLOW_ID,
    timeoutMs = 3_000,
  ): Promise<PendingActivity[] | null> {
    try {
      const description = await connection.withDeadline(Date.now() + timeoutMs, () =>
        temporal.workflow.getHandle(workflowId).describe(),
      );
      return (description.raw.pendingActivities ?? []).map((activity) => {
        const pid = /^(\d+)@/.exec(activity.lastWorkerIdentity ?? '')?.[1];
        return {
          type: activity.activityType?.name ?? '?',
          started: Number(activity.state) === STARTED,
          attempt: activity.attempt ?? 1,
          workerPid: pid === undefined ? null : Number(pid),
        };
      });
    } catch {
      return null;
    }
  }
  return {
    addresses,
    holviPool,
    ownerPool,
    expenzyPool,
    temporal,
    async syncStatus(timeoutMs = 3_000) {
      try {
        return await connection.withDeadline(Date.now() + timeoutMs, () =>
          temporal.workflow.getHandle(SYNC_WORKFLOW_ID).query(statusQuery),
        );
      } catch {
        return null;
      }
    },
    async runningActivities(workerPid, timeoutMs = 3_000) {
      const pending = await pendingActivities(SYNC_WORKFLOW_ID, timeoutMs);
      return pending
        ? pending
            .filter((activity) => activity.started && (!workerPid || activity.workerPid === workerPid))
            .map((activity) => activity.type)
        : null;
    },
    pendingActivities,
    async workflowStatus(workflowId, timeoutMs = 3_000) {
      try {
        const description = await connection.withDeadline(Date.now() + timeoutMs, () =>
          temporal.workflow.getHandle(workflowId).describe(),
        );
        return description.status.name;
      } catch {
        return null;
      }
    },
    async close() {
      await connection.close();
      await Promise.all([holviPool.end(), ownerPool.end(), expenzyPool.end()]);
    },
  };
}

/** A JSON call to 127.0.0.1, bounded in time; throws on a non-2xx answer. */
export async function callJson(url: string, method = 'GET', body?: unknown, timeoutMs = 10_000) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/**
 * Sum of a Prometheus counter's samples on a /metrics page, optionally only those whose labels
 * include every `labels` pair. Null when the page cannot be read.
 */
export async function readCounter(
  metricsUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | null> {
  let text: string;
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    text = await response.text();
  } catch {
    return null;
  }
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      sum += Number(match[3]);
    }
  }
  return sum;
}
