import { countReceived } from '../../db/payout-store.js';
import type { FastifyInstance } from 'fastify';

/** `GET /payout/count`: rows in holvi_received_payout as a plain-text integer (the original report reads it). */
export default async function payoutRoutes(app: FastifyInstance) {
  app.get('/payout/count', async (_request, reply) => {
    return reply.type('text/plain').send(await countReceived(app.deps.pool));
  });
}
