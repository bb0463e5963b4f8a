import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import type { Config } from '../config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface SyncWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dependencies: ActivityDependencies;
  /** A pre-built bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** The worker that runs the `expenzySync` workflow and its activities on one task queue. */
export async function createSyncWorker(options: SyncWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.dependencies),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
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
