import { pino } from 'pino';
import { loadConfig } from '../config.js';
import { migrateHolvi } from './migrate.js';

const logger = pino({ name: 'migrate' });
try {
  const applied = await migrateHolvi(loadConfig().HOLVI_MIGRATION_DATABASE_URL, logger);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
}
