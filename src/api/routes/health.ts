import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { SyncClient } from '../../temporal/sync-client.js';

export interface HealthOptions {
  temporal: Pick<SyncClient, 'healthy'>;
  /** READY_TEMPORAL_GRACE. */
  graceMs: number;
  /** Milliseconds now. */
  now: () => number;
}

/**
 * `/healthz`: the process is up (liveness). `/readyz`: send it traffic (readiness).
 *
 * Ready when the database answers and Temporal answers, or answered less than
 * READY_TEMPORAL_GRACE ago. A webhook needs nothing from Temporal to be acknowledged while the
 * last signal was accepted: the API answers `ok` and sends the signal again in the background
 * until Temporal takes it (plugins/sync-signals.ts), and the reconciliation pass covers the rest.
 * So a short Temporal outage (a rolling restart of the frontend) must not take every API pod out
 * of the Service at once, which would turn Expenzy's webhooks into refused connections; a long
 * one does, so that the load balancer and the alerts say so. Before Temporal was ever reached the
 * pod is not ready.
 */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { temporal, graceMs, now }) => {
  let temporalLastSeen = -Infinity;

  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));

  app.get('/readyz', async (_request, reply) => {
    const [database, temporalUp] = await Promise.all([databaseReachable(app), temporal.healthy()]);
    if (temporalUp) temporalLastSeen = now();
    const unreachableForMs = temporalUp ? 0 : now() - temporalLastSeen;
    const ready = database && (temporalUp || unreachableForMs < graceMs);
    const body =
      Number.isFinite(unreachableForMs) && !temporalUp
        ? { database, temporal: temporalUp, temporalUnreachableForMs: unreachableForMs }
        : { database, temporal: temporalUp };
    return reply.code(ready ? 200 : 503).send(body);
  });
};

async function databaseReachable(app: FastifyInstance): Promise<boolean> {
  try {
    await app.db.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
