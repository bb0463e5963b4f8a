import type pg from 'pg';
import type { SyncFence } from '../fence/sync-fence.js';
import type { SyncMetrics } from '../metrics/sync-metrics.js';
import type { ExpenzyClient } from '../partner/expenzy-client.js';

/** What the activities are built from; tests pass other pools, fences and partner clients. */
export interface ActivityDependencies {
  pool: pg.Pool;
  expenzy: ExpenzyClient;
  /** Held by every activity that lists or sends (src/fence/sync-fence.ts). */
  fence: SyncFence;
  /** Payouts per MarkProcessing or QuarantinePayouts (FETCH_BATCH_SIZE). */
  batchSize: number;
  /** Partner calls in flight at once within one activity (EXPENZY_MAX_PARALLEL_CALLS). */
  maxParallelCalls: number;
  /** SYNC_WORKFLOW_ID: a FetchTransactions of any other workflow is refused (a stray sync). */
  syncWorkflowId: string;
  metrics?: SyncMetrics;
}
