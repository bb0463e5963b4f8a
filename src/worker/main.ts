import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadConfig } from '../config.js';
import { createPool } from '../db/pool.js';
import { requireCurrentSchemaOrExit } from '../db/schema-version.js';
import { createLogger } from '../logger.js';
import { createSyncMetrics } from '../metrics/sync-metrics.js';
import { expenzyClientFromConfig } from '../partner/expenzy-client.js';
import { FenceSessionError, SyncFence } from '../fence/sync-fence.js';
import { announceWorker } from '../temporal/sync-client.js';
import { activityDependencies, createSyncWorker } from './create-worker.js';
import { installRuntime } from './runtime.js';
import { startMetricsServer } from './metrics-server.js';

const config = loadConfig();
const logger = createLogger('worker', config.LOG_LEVEL);
const SDK_METRICS_ADDRESS = `127.0.0.1:${config.WORKER_SDK_METRICS_PORT}`;

installRuntime(logger, SDK_METRICS_ADDRESS);

const pool = createPool(config.HOLVI_DATABASE_URL, config.HOLVI_DB_POOL_SIZE, logger);
await requireCurrentSchemaOrExit(pool, logger);

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const metrics = createSyncMetrics(registry);
const expenzy = expenzyClientFromConfig(config, metrics.observePartnerCall);

const fence = new SyncFence({
  connectionString: config.HOLVI_FENCE_DATABASE_URL,
  callTimeoutMs: config.EXPENZY_CALL_TIMEOUT,
  events: metrics.fence,
});
// A fence that cannot work (a transaction-mode pooler in between) would send twice: refused here.
try {
  const { proxied } = await fence.checkDirect();
  if (proxied) {
    logger.warn(
      'the fence connection goes through a proxy (the server sees another client port): fine for a session-preserving proxy, not for a transaction-mode pooler',
    );
  }
} catch (error) {
  if (!(error instanceof FenceSessionError)) throw error;
  logger.fatal({ variable: 'HOLVI_FENCE_DATABASE_URL' }, error.message);
  process.exit(1);
}

const connection = await NativeConnection.connect(config.temporal.connectionOptions);
const worker = await createSyncWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  dependencies: activityDependencies(config, { pool, expenzy, fence, metrics }),
  shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE,
});
const metricsServer = await startMetricsServer({
  host: config.WORKER_METRICS_HOST,
  port: config.WORKER_METRICS_PORT,
  registry,
  sdkMetricsUrl: `http://${SDK_METRICS_ADDRESS}/metrics`,
  healthy: () => worker.getState() === 'RUNNING',
});

const client = new Client({
  connection: await Connection.connect(config.temporal.connectionOptions),
  namespace: config.TEMPORAL_NAMESPACE,
});
await announceWorker(client, config);

logger.info(
  {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    temporal: config.temporal.describe,
    metrics: `http://${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}/metrics`,
  },
  'worker started',
);
try {
  await worker.run();
} finally {
  metricsServer.close();
  await client.connection.close();
  await connection.close();
  await expenzy.close();
  await fence.close();
  await pool.end();
  logger.info('worker stopped');
}
