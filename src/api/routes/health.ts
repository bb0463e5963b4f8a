import type { FastifyInstance } from 'fastify';

/**
 * `/healthz`: the process is up (liveness). `/readyz`: send it traffic (readiness).
 *
 * Ready when the database answers and Temporal answers, or answered less than
 * READY_TEMPORAL_GRACE ago. A webhook needs nothing from Temporal to be acknowledged while the
 * last signal was accepted: the API answers `ok` and sends the signal again in the background
 * until Temporal takes it (signal-coalescer.ts), and the reconciliation pass covers the rest. So
 * a short Temporal outage (a rolling restart of the frontend) must not take every API pod out
 * of the Service at once, which would turn Expenzy's webhooks into refused connections; a long
 * one does, so that the load balancer and the alerts say so. Before Temporal was ever reached the
 * pod is not ready.
 */
export default async function healthRoutes(app: FastifyInstance) {
  const graceMs = app.deps.config.READY_TEMPORAL_GRACE ?? 0;
  const now = app.deps.clock ?? Date.now;
  let temporalLastSeen = -Infinity;

  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));

  app.get('/readyz', async (_request, reply) => {
    const [database, temporal] = await Promise.all([databaseReachable(app), app.deps.temporal.healthy()]);
    if (temporal) temporalLastSeen = now();
    const unreachableForMs = temporal ? 0 : now() - temporalLastSeen;
    const ready = database && (temporal || unreachableForMs < graceMs);
    const body =
      Number.isFinite(unreachableForMs) && !temporal
        ? { database, temporal, temporalUnreachableForMs: unreachableForMs }
        : { database, temporal };
    return reply.code(ready ? 200 : 503).send(body);
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
