import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { CallCounts, CallOperation } from '../calls.js';
import { publicApiFaults, sendFailure } from '../faults.js';
import type { Knobs } from '../knobs.js';
import type { PayoutStore } from '../payouts.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const settableStates = ['processing', 'error'];

// Fastify names the list route with or without its trailing slash (prefix + '/').
const operationOf: Record<string, CallOperation> = {
  '/api/transaction': 'list',
  '/api/transaction/': 'list',
  '/api/transaction/:id/': 'update',
  '/api/transaction/count': 'count',
};

const sendJsonText = (reply: FastifyReply, body: string) =>
  reply.type('application/json; charset=utf-8').send(body);

const countsSchema = {
  type: 'object',
  properties: {
    total_num_transactions: { type: 'integer' },
    processing_num_transactions: { type: 'integer' },
    max_update_count: { type: 'integer' },
  },
} as const;

/** The partner's refusal when `refuseUpdates` is `404`: its usual JSON error, naming the payout. */
const refusedUpdate = (id: string) => ({
  error: `transaction ${id.slice(0, 64)} cannot change state now: it is held for review`,
});

/** The partner's public API, under /api/transaction, warts included. */
export const transactionRoutes: FastifyPluginAsync<{
  store: PayoutStore;
  knobs: Knobs;
  calls: CallCounts;
}> = async (app, { store, knobs, calls }) => {
  // Fastify names the list route by the prefix itself, with or without its trailing slash.
  const listRoutes = new Set([app.prefix, `${app.prefix}/`]);
  app.addHook(
    'onRequest',
    publicApiFaults(knobs, (url) => listRoutes.has(url)),
  );
  // Every answered call is counted, faults included (GET /admin/calls).
  app.addHook('onResponse', async (request, reply) => {
    const operation = operationOf[request.routeOptions.url ?? ''];
    if (operation) calls.add(operation, reply.statusCode);
  });

  // A read behind POST, all payouts at once, no pagination.
  app.post<{ Querystring: { state?: string } }>(
    '/',
    { schema: { querystring: { type: 'object', properties: { state: { type: 'string' } } } } },
    async (request, reply) => {
      if (knobs.roll('listFailureRate')) return sendFailure(reply, 500);
      return sendJsonText(reply, await store.list(request.query.state, knobs.settings));
    },
  );

  app.post<{ Params: { id: string }; Body: { state?: unknown } | undefined }>(
    '/:id/',
    { schema: { params: { type: 'object', properties: { id: { type: 'string' } } } } },
    async (request, reply) => {
      const state = request.body?.state;
      if (typeof state !== 'string' || !settableStates.includes(state)) {
        return reply.code(404).send({ error: `state must be one of: ${settableStates.join(', ')}` });
      }
      const refusal = knobs.settings.refuseUpdates;
      if (refusal === 'empty') return sendJsonText(reply, '[]');
      if (refusal === '404') return reply.code(404).send(refusedUpdate(request.params.id));
      if (knobs.roll('failureRate')) return sendFailure(reply, 500);
      // An empty list is the partner's only way of saying "failed", unknown id or not.
      if (!uuidPattern.test(request.params.id)) return sendJsonText(reply, '[]');
      const result = await store.updateState(request.params.id, state, knobs.settings);
      if (result.updated && knobs.roll('failAfterCommitRate')) return sendFailure(reply, 500);
      return sendJsonText(reply, result.body);
    },
  );

  app.get('/count', { schema: { response: { 200: countsSchema } } }, async () => store.counts());
};
