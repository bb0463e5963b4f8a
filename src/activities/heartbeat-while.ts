import { heartbeat } from '@temporalio/activity';

/** How often a step heartbeats while it waits on something that gives no progress of its own. */
const EVERY_MS = 1_000;

/**
 * Runs `work`, heartbeating every second until it settles: a long statement, or a partner that
 * builds a large list before its first byte, is work in progress, not a dead worker. The work
 * itself stays bounded by its own timeouts.
 */
export async function heartbeatWhile<T>(work: () => Promise<T>): Promise<T> {
  const beating = setInterval(() => heartbeat(), EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(beating);
  }
}
