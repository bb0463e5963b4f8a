import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import type pg from 'pg';
import { CallCounts } from './calls.js';
import type { Knobs } from './knobs.js';
import { createPayoutStore } from './payouts.js';
import { adminCallRoutes } from './routes/admin/calls.js';
import { adminKnobRoutes } from './routes/admin/knobs.js';
import { adminPayoutRoutes } from './routes/admin/payouts.js';
import { healthRoutes } from './routes/health.js';
import { transactionRoutes } from './routes/transactions.js';

export interface ExpenzyAppOptions {
  pool: pg.Pool;
  knobs: Knobs;
  /** Without it the /admin routes do not exist: 404 like any unknown path. */
  adminEnabled: boolean;
  logger?: FastifyServerOptions['logger'];
}

/** The simulator as a plugin: the partner's public API, and the admin routes when enabled. */
export const expenzyApp: FastifyPluginAsync<Omit<ExpenzyAppOptions, 'logger'>> = async (
  app,
  { pool, knobs, adminEnabled },
) => {
  const store = createPayoutStore(pool);
  const calls = new CallCounts();
  await app.register(formbody);
  await app.register(healthRoutes);
  await app.register(transactionRoutes, { prefix: '/api/transaction', store, knobs, calls });
  if (adminEnabled) {
    await app.register(adminCallRoutes, { prefix: '/admin', calls });
    await app.register(adminKnobRoutes, { prefix: '/admin', knobs });
    await app.register(adminPayoutRoutes, { prefix: '/admin', store, knobs });
  }
};

/** The caller owns the pool: closing the app does not end it. */
export function buildExpenzyApp({ logger = false, ...options }: ExpenzyAppOptions): FastifyInstance {
  const app = Fastify({ logger });
  void app.register(expenzyApp, options);
  return app;
}
