import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { randomAmount, randomRecipient } from '../../generate.js';
import { payoutDefects, type Knobs, type PayoutDefect } from '../../knobs.js';
import type { PayoutStore } from '../../payouts.js';

interface CreateBody {
  count?: number;
  amount?: string;
  recipient?: string;
  /** A kind (malformed or poison) forces that defect, null forces none; absent, the malformedRate knob decides. */
  malformed?: PayoutDefect | null;
}

const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    count: { type: 'integer', minimum: 1, maximum: 1000 },
    amount: { type: 'string', pattern: '^[0-9]{1,14}[.][0-9]{2}$' },
    recipient: { type: 'string', minLength: 1, maxLength: 20 },
    malformed: { enum: [...payoutDefects, null] },
  },
} as const;

/** Make, inspect and wipe payouts; the producer tool creates its payouts here. */
export const adminPayoutRoutes: FastifyPluginAsync<{ store: PayoutStore; knobs: Knobs }> = async (
  app,
  { store, knobs },
) => {
  app.post<{ Body: CreateBody }>(
    '/payouts',
    {
      schema: { body: createBody },
      // A bare `curl -X POST` creates one payout.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const { count = 1, amount, recipient, malformed } = request.body;
      const created: { id: string; malformed_kind: PayoutDefect | null }[] = [];
      // One at a time, each committed on its own, so create_time follows creation order.
      for (let i = 0; i < count; i++) {
        const payout = {
          id: randomUUID(),
          amount: amount ?? randomAmount(knobs.random),
          recipient: recipient ?? randomRecipient(knobs.random),
          malformedKind: malformed === undefined ? knobs.pickMalformed() : malformed,
        };
        await store.insert(payout);
        created.push({ id: payout.id, malformed_kind: payout.malformedKind });
      }
      return created;
    },
  );

  app.get('/payouts', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(await store.raw()),
  );

  app.post('/reset', async (_request, reply) => {
    await store.reset();
    return reply.code(204).send();
  });
};
