import type { FastifyPluginAsync } from 'fastify';

/** Liveness for compose and scripts; never subject to the fault knobs. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));
};
