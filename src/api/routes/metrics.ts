import type { FastifyPluginAsync } from 'fastify';

/** Prometheus metrics of the API process (the worker serves the sync's and the SDK's). */
export const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', async (_request, reply) =>
    reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics()),
  );
};
