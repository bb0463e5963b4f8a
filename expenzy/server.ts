import { buildExpenzyApp } from './app.js';
import { loadConfig } from './config.js';
import { createPool, migrateExpenzy } from './db.js';
import { Knobs } from './knobs.js';

const config = loadConfig();
const knobs = new Knobs(config.knobs, { seed: config.seed, outageSeconds: config.outageSeconds });
const pool = createPool(config.databaseUrl, (error) =>
  app.log.warn({ err: error }, 'idle database client failed'),
);
const app = buildExpenzyApp({
  pool,
  knobs,
  adminEnabled: config.adminEnabled,
  logger: { level: config.logLevel },
});

await migrateExpenzy(pool);
await app.listen({ host: config.host, port: config.port });
// The seed is logged so that a run's faults can be replayed with EXPENZY_SEED.
app.log.info({ knobs: knobs.view(), adminEnabled: config.adminEnabled }, 'Expenzy simulator ready');

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  app.log.info({ signal }, 'shutting down');
  await app.close();
  await pool.end();
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, (received) => void shutdown(received));
}
