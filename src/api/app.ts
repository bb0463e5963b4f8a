import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config.js';
import { createApiMetrics } from '../metrics/api-metrics.js';
import { SignalCoalescer } from './signal-coalescer.js';
import type { TemporalGateway } from './temporal-gateway.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import payoutRoutes from './routes/payouts.js';
import webhookRoutes from './routes/webhook.js';

export interface ApiDependencies {
  config: Pick<Config, 'EXPENZY_WEBHOOK_TOKEN' | 'WEBHOOK_RATE_LIMIT_PER_MINUTE'> &
    Partial<Pick<Config, 'SIGNAL_MIN_INTERVAL' | 'READY_TEMPORAL_GRACE'>>;
  pool: pg.Pool;
  temporal: TemporalGateway;
  logger?: Logger;
  /** Milliseconds now (tests pass a fake one); Date.now otherwise. */
  clock?: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ApiDependencies;
    syncSignals: SignalCoalescer;
    metrics: { registry: Registry } & ReturnType<typeof createApiMetrics>;
  }
}

/** The Holvi API: Expenzy's webhook, the payout count for the report, health and metrics. */
export async function buildApp(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
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
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = { registry, ...createApiMetrics(registry) };

  app.decorate('deps', deps);
  app.decorate('metrics', metrics);
  const syncSignals = new SignalCoalescer(() => sendSignal(deps.temporal, metrics), {
    minIntervalMs: deps.config.SIGNAL_MIN_INTERVAL ?? 0,
    onBackgroundFailure: (error, retryInMs) =>
      app.log.warn({ err: error, retryInMs }, 'signal for acknowledged webhooks failed; sending it again'),
  });
  app.decorate('syncSignals', syncSignals);
  // Before the Temporal connection closes (onClose): send what acknowledged webhooks asked for.
  app.addHook('preClose', () => syncSignals.close());

  await app.register(rateLimit, { global: false });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    // Never echo the request back: a fixed message per status.
    return reply.code(status).send({ error: status === 500 ? 'internal error' : 'bad request' });
  });

  await app.register(webhookRoutes);
  await app.register(payoutRoutes);
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  return app;
}

async function sendSignal(
  temporal: TemporalGateway,
  metrics: ReturnType<typeof createApiMetrics>,
): Promise<void> {
  const stopTimer = metrics.signalSeconds.startTimer();
  try {
    await temporal.requestSync();
    metrics.signalsSent.inc({ result: 'ok' });
  } catch (error) {
    metrics.signalsSent.inc({ result: 'error' });
    throw error;
  } finally {
    stopTimer();
  }
}
