import rateLimit from '@fastify/rate-limit';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { SyncClient } from '../temporal/sync-client.js';
import { databasePlugin } from './plugins/database.js';
import { metricsPlugin } from './plugins/metrics.js';
import { syncSignalsPlugin } from './plugins/sync-signals.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { payoutRoutes } from './routes/payouts.js';
import { webhookRoutes } from './routes/webhook.js';

export interface ApiOptions {
  config: Pick<Config, 'EXPENZY_WEBHOOK_TOKEN' | 'WEBHOOK_RATE_LIMIT_PER_MINUTE'> &
    Partial<Pick<Config, 'SIGNAL_MIN_INTERVAL' | 'READY_TEMPORAL_GRACE'>>;
  pool: pg.Pool;
  sync: SyncClient;
  /** Milliseconds now (tests pass a fake one); Date.now otherwise. */
  clock?: () => number;
}

/**
 * The Holvi API as a plugin: Expenzy's webhook, the payout count for the report, health and
 * metrics. Shared things first (database, metrics, the sync's signals), then the routes.
 */
export const holviApi: FastifyPluginAsync<ApiOptions> = async (app, { config, pool, sync, clock }) => {
  await app.register(rateLimit, { global: false });
  await app.register(databasePlugin, { pool });
  await app.register(metricsPlugin);
  await app.register(syncSignalsPlugin, { client: sync, minIntervalMs: config.SIGNAL_MIN_INTERVAL ?? 0 });

  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    // Never echo the request back: a fixed message per status.
    return reply.code(status).send({ error: status === 500 ? 'internal error' : 'bad request' });
  });

  await app.register(webhookRoutes, {
    token: config.EXPENZY_WEBHOOK_TOKEN,
    perMinute: config.WEBHOOK_RATE_LIMIT_PER_MINUTE,
  });
  await app.register(payoutRoutes);
  await app.register(healthRoutes, {
    temporal: sync,
    graceMs: config.READY_TEMPORAL_GRACE ?? 0,
    now: clock ?? Date.now,
  });
  await app.register(metricsRoutes);
};

/** The caller owns the pool and the sync client: closing the app closes neither. */
export async function buildApp({
  logger,
  ...options
}: ApiOptions & { logger?: Logger }): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: 1024, // the webhook carries no payload
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's own request lines carry the full URL, and with it a `?token=` webhook secret.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    );
  });
  await app.register(holviApi, options);
  return app;
}
