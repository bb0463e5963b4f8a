import type { FastifyPluginAsync } from 'fastify';
import { countReceived } from '../../db/payout-store.js';

/** `GET /payout/count`: rows in holvi_received_payout as a plain-text integer (the original report reads it). */
export const payoutRoutes: FastifyPluginAsync = async (app) => {
  app.get('/payout/count', async (_request, reply) => {
    return reply.type('text/plain').send(await countReceived(app.db));
  });
};
