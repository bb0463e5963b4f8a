import { loadConfig } from '../config.js';
import { createPool } from '../db/pool.js';
import { requireCurrentSchemaOrExit } from '../db/schema-version.js';
import { createLogger } from '../logger.js';
import { createSyncClient } from '../temporal/sync-client.js';
import { buildApp } from './app.js';

const config = loadConfig();
const logger = createLogger('holvi-api', config.LOG_LEVEL);

const pool = createPool(config.HOLVI_DATABASE_URL, config.HOLVI_DB_POOL_SIZE, logger);
await requireCurrentSchemaOrExit(pool, logger);
logger.info({ temporal: config.temporal.describe }, 'Temporal connection');
const sync = createSyncClient(config);
const app = await buildApp({ config, pool, sync, logger });
app.addHook('onClose', async () => {
  await sync.close();
  await pool.end();
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    void app.close().then(() => process.exit(0));
  });
}

await app.listen({ host: config.HOLVI_API_HOST, port: config.HOLVI_API_PORT });
