import type pg from 'pg';
import type { ExpenzyClient } from '../partner/expenzy-client.js';
import type { SyncMetrics } from '../metrics/sync-metrics.js';

/** What the activities are built from; tests pass other pools and partner clients. */
export interface ActivityDependencies {
  pool: pg.Pool;
  expenzy: ExpenzyClient;
  /** Most payouts one pass handles (keeps every activity payload small). */
  batchSize: number;
  metrics?: SyncMetrics;
}
