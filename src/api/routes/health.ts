import type { FastifyInstance } from 'fastify';

/** `/healthz`: the process is up. `/readyz`: it can do its job (database and Temporal reachable). */
export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));

  app.get('/readyz', async (_request, reply) => {
    const [database, temporal] = await Promise.all([databaseReachable(app), app.deps.temporal.healthy()]);
    const ready = database && temporal;
    return reply.code(ready ? 200 : 503).send({ database, temporal });
  });
}

async function databaseReachable(app: FastifyInstance): Promise<boolean> {
  try {
    await app.deps.pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
