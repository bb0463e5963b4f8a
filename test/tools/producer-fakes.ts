import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';

/** What both fakes saw, in order, with a monotonic clock in ms. */
export interface Timeline {
  created: { id: string; at: number }[];
  webhooks: { at: number; createdBefore: number }[];
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
  close(): Promise<void>;
}

const listen = async (app: FastifyInstance) => app.listen({ port: 0, host: '127.0.0.1' });

/** A fake simulator admin route and a fake Holvi webhook, on real HTTP ports. */
export async function startFakes(): Promise<Fakes> {
  const expenzy = Fastify();
  const holvi = Fastify();
  let inFlight = 0;
  let attempts = 0;
  const fakes = {
    timeline: { created: [], webhooks: [], maxInFlight: 0 } as Timeline,
    holviAnswer: () => 200,
    expenzyAnswer: () => 200,
  } as Omit<Fakes, 'expenzyBaseUrl' | 'holviBaseUrl' | 'close'>;

  expenzy.post('/admin/payouts', async (request, reply) => {
    const status = fakes.expenzyAnswer(++attempts);
    if (status !== 200) return reply.code(status).send({ error: 'boom' });
    const id = randomUUID();
    fakes.timeline.created.push({ id, at: performance.now() });
    return [{ id, malformed_kind: null }];
  });
  holvi.get('/expenzy/webhook/', async (request, reply) => {
    const { timeline } = fakes;
    timeline.webhooks.push({ at: performance.now(), createdBefore: timeline.created.length });
    timeline.maxInFlight = Math.max(timeline.maxInFlight, ++inFlight);
    try {
      return reply.code(await fakes.holviAnswer(timeline.webhooks.length)).send('ok');
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
