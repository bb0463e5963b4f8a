import type { FastifyPluginAsync } from 'fastify';
import type { CallCounts } from '../../calls.js';

/** The public API's call counts since start, per operation (the benchmark counts list calls here). */
export const adminCallRoutes: FastifyPluginAsync<{ calls: CallCounts }> = async (app, { calls }) => {
  app.get('/calls', async () => calls.view());
};
