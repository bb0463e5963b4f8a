import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { Knobs } from './knobs.js';

const pages = {
  500: 'Internal Server Error',
  503: 'Service Unavailable',
} as const;

/** The partner's failures come from its web framework as HTML pages, not JSON. */
export function sendFailure(reply: FastifyReply, status: keyof typeof pages): FastifyReply {
  const title = `${status} ${pages[status]}`;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>\n<html lang=en>\n<title>${title}</title>\n<h1>${pages[status]}</h1>\n`);
}

/** Outage first (a dead service answers at once), then the configured latency. */
export function publicApiFaults(knobs: Knobs): onRequestAsyncHookHandler {
  return async (_request, reply) => {
    if (knobs.inOutage()) return sendFailure(reply, 503);
    const delay = knobs.latency();
    if (delay > 0) await sleep(delay);
  };
}
