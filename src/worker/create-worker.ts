import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import type { Config } from '../config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Where `npm run build` writes the workflow bundle (dist/workflow-bundle.js, beside dist/src/). */
export const prebuiltBundlePath = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));

/** Running compiled code (dist/), not TypeScript through tsx. */
const compiled = import.meta.url.endsWith('.js');

/**
 * The workflow code a worker or a replayer loads: from dist/, the bundle `npm run build` made with
 * bundleWorkflowCode (no webpack at start-up, less memory); under tsx, the sources, bundled at
 * start as before.
 */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (!compiled) return { workflowsPath };
  if (!existsSync(prebuiltBundlePath)) {
    throw new Error(`${prebuiltBundlePath} is missing: build with 'npm run build'`);
  }
  return { workflowBundle: { codePath: prebuiltBundlePath } };
}

export interface SyncWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dependencies: ActivityDependencies;
  /** A pre-built bundle (tests build it once); otherwise `workflowSource()`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How long a shutting-down worker lets running activities finish before cancelling them. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
}

/** The worker that runs the `expenzySync` workflow and its activities on one task queue. */
export async function createSyncWorker(options: SyncWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.dependencies),
    ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : workflowSource()),
  });
}

/** The activities' dependencies with the settings they take from the configuration. */
export function activityDependencies(
  config: Pick<Config, 'FETCH_BATCH_SIZE' | 'EXPENZY_MAX_PARALLEL_CALLS' | 'SYNC_WORKFLOW_ID'>,
  parts: Pick<ActivityDependencies, 'pool' | 'expenzy' | 'fence' | 'metrics'>,
): ActivityDependencies {
  return {
    ...parts,
    batchSize: config.FETCH_BATCH_SIZE,
    maxParallelCalls: config.EXPENZY_MAX_PARALLEL_CALLS,
    syncWorkflowId: config.SYNC_WORKFLOW_ID,
  };
}
