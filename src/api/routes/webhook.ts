import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatches } from '../webhook-token.js';

const querystring = {
  type: 'object',
  properties: { token: { type: 'string', maxLength: 256 } },
  additionalProperties: false,
} as const;

type WebhookRequest = FastifyRequest<{ Querystring: { token?: string } }>;

/**
 * Expenzy's payload-less webhook. It carries nothing to trust, so all it can do is ask for a
 * (coalesced) sync pass: a forged call costs at most one extra pass.
 *
 * Expenzy never retries a webhook, and the payouts wait at Expenzy in `notifying` whatever we
 * answer, so the answer changes nothing but Expenzy's log. While Temporal accepts signals it is
 * 200 `ok` at once and the signal follows (retried until accepted; the reconciliation pass covers
 * an API that dies first); once signals fail, a webhook waits for one and gets 503 if it fails.
 */
export default async function webhookRoutes(app: FastifyInstance) {
  const { EXPENZY_WEBHOOK_TOKEN: token, WEBHOOK_RATE_LIMIT_PER_MINUTE: perMinute } = app.deps.config;

  const handler = async (request: WebhookRequest, reply: FastifyReply) => {
    if (token !== undefined) {
      const given = (request.headers['x-webhook-token'] as string | undefined) ?? request.query.token;
      if (!tokenMatches(token, given)) {
        app.metrics.webhooksReceived.inc({ result: 'unauthorized' });
        return reply.code(401).type('text/plain').send('unauthorized');
      }
    }
    try {
      await app.syncSignals.handOff();
    } catch (error) {
      app.metrics.webhooksReceived.inc({ result: 'unavailable' });
      request.log.error({ err: error }, 'could not hand the webhook to Temporal');
      return reply.code(503).type('text/plain').send('unavailable');
    }
    app.metrics.webhooksReceived.inc({ result: 'ok' });
    return reply.type('text/plain').send('ok');
  };

  app.route({
    method: ['GET', 'POST'],
    url: '/expenzy/webhook/',
    schema: { querystring },
    config: { rateLimit: { max: perMinute, timeWindow: '1 minute' } },
    handler,
  });
}
