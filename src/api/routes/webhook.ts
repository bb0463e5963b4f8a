import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

export interface WebhookOptions {
  /** EXPENZY_WEBHOOK_TOKEN: when set, a webhook without it is refused. */
  token: string | undefined;
  /** WEBHOOK_RATE_LIMIT_PER_MINUTE, per client address. */
  perMinute: number;
}

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
export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app, { token, perMinute }) => {
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
};

/**
 * Checks the optional shared secret in constant time. Hashing both sides first gives equal
 * lengths, so neither the content nor the length of the expected token leaks through timing.
 */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
