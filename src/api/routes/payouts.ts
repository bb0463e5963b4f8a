import type { FastifyInstance } from 'fastify';

/** `GET /payout/count`: rows in holvi_received_payout as a plain-text integer (the original report reads it). */
export default async function payoutRoutes(app: FastifyInstance) {
  app.get('/payout/count', async (_request, reply) => {
    const { rows } = await app.deps.pool.query<{ count: string }>(
      'SELECT count(*) AS count FROM holvi_received_payout',
    );
    return reply.type('text/plain').send(rows[0]?.count ?? '0');
  });
}
