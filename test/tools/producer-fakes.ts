import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

/**
 * What both fakes saw, in order. `seq` numbers every event of both fakes (and of the test, with
 * `mark()`) in the order it happened: tests compare orders, never durations.
 */
export interface Timeline {
  created: { id: string; seq: number }[];
  webhooks: { seq: number; createdBefore: number; answeredSeq?: number }[];
  maxInFlight: number;
}

export interface Fakes {
  expenzyBaseUrl: string;
  holviBaseUrl: string;
  timeline: Timeline;
  /** Decides each webhook's answer (hit numbers start at 1); default 200 at once. */
  holviAnswer: (hit: number) => Promise<number> | number;
  /** Decides each creation's status code; default 200. */
  expenzyAnswer: (attempt: number) => number;
  /** The next number of the timeline's order, for an event of the test's own. */
  mark(): number;
  close(): Promise<void>;
}

const listen = async (app: FastifyInstance) => app.listen({ port: 0, host: '127.0.0.1' });

/** A fake simulator admin route and a fake Holvi webhook, on real HTTP ports. */
export async function startFakes(): Promise<Fakes> {
  const expenzy = Fastify();
  const holvi = Fastify();
  let inFlight = 0;
  let attempts = 0;
  let seq = 0;
  const fakes = {
    timeline: { created: [], webhooks: [], maxInFlight: 0 } as Timeline,
    holviAnswer: () => 200,
    expenzyAnswer: () => 200,
    mark: () => ++seq,
  } as Omit<Fakes, 'expenzyBaseUrl' | 'holviBaseUrl' | 'close'>;

  expenzy.post('/admin/payouts', async (request, reply) => {
    const status = fakes.expenzyAnswer(++attempts);
    if (status !== 200) return reply.code(status).send({ error: 'boom' });
    const id = randomUUID();
    fakes.timeline.created.push({ id, seq: fakes.mark() });
    return [{ id, malformed_kind: null }];
  });
  holvi.get('/expenzy/webhook/', async (request, reply) => {
    const { timeline } = fakes;
    const webhook: Timeline['webhooks'][number] = {
      seq: fakes.mark(),
      createdBefore: timeline.created.length,
    };
    timeline.webhooks.push(webhook);
    timeline.maxInFlight = Math.max(timeline.maxInFlight, ++inFlight);
    try {
      const status = await fakes.holviAnswer(timeline.webhooks.length);
      webhook.answeredSeq = fakes.mark();
      return reply.code(status).send('ok');
    } finally {
      inFlight -= 1;
    }
  });

  const [expenzyBaseUrl, holviBaseUrl] = await Promise.all([listen(expenzy), listen(holvi)]);
  return Object.assign(fakes, {
    expenzyBaseUrl,
    holviBaseUrl,
    close: async () => {
      await Promise.all([expenzy.close(), holvi.close()]);
    },
  });
}
