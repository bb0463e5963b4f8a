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

/**
 * Outage first (a dead service answers at once), then the configured latency. The delay comes
 * before the handler runs: a call its client gave up on meanwhile is still applied afterwards.
 */
export function publicApiFaults(knobs: Knobs, isList: (url: string) => boolean): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (knobs.inOutage()) return sendFailure(reply, 503);
    const delay = knobs.latency(isList(request.routeOptions.url ?? '') ? 'list' : 'other');
    if (delay > 0) await sleep(delay);
  };
}
