import fp from 'fastify-plugin';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createApiMetrics, type ApiMetrics } from '../../metrics/api-metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The API process's Prometheus registry and its counters (the worker serves the sync's). */
    metrics: { registry: Registry } & ApiMetrics;
  }
}

/** A registry of the app's own: two apps in one process (the tests) never share a metric. */
export const metricsPlugin = fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    app.decorate('metrics', { registry, ...createApiMetrics(registry) });
  },
  { name: 'metrics' },
);
