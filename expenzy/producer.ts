import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { createPayout, sendWebhook } from './producer-http.js';
import type { ProducerOptions } from './producer-options.js';

export interface ProducerProgress {
  attempts: number;
  payoutsCreated: number;
  webhooksSent: number;
  webhooksFailed: number;
  webhooksDropped: number;
  /** Queued or in flight. */
  webhooksPending: number;
}

export interface ProducerSummary extends Omit<ProducerProgress, 'webhooksPending'> {
  elapsedMs: number;
  /** Payouts per second over the creation phase (webhooks still draining excluded). */
  creationRate: number;
  /** True when the signal stopped the run before all attempts were made. */
  aborted: boolean;
}

export interface ProducerHooks {
  signal?: AbortSignal;
  logger?: Pick<Logger, 'warn' | 'debug'>;
  onProgress?: (progress: ProducerProgress) => void;
  /** Decides the dropped webhooks; replaceable so tests are deterministic. */
  random?: () => number;
  /** Milliseconds on a monotonic clock, for the summary's times; replaceable like `random`. */
  clock?: () => number;
  /** The wait between two creations; resolves early (never rejects) when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal) =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

/** The error thrown when a payout could not be created; webhooks already queued were still sent. */
export class ProducerError extends Error {
  constructor(
    message: string,
    readonly summary: ProducerSummary,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Expenzy's side of the exchange, as the partner behaves: payouts created one after another,
 * each committed before its webhook is queued; webhooks sent by `concurrency` workers without
 * holding up creation; a failed webhook logged and never retried.
 */
export async function producePayouts(
  options: ProducerOptions,
  hooks: ProducerHooks = {},
): Promise<ProducerSummary> {
  const {
    signal,
    logger,
    onProgress,
    random = Math.random,
    clock = () => performance.now(),
    sleep: pause = realSleep,
  } = hooks;
  const agent = new Agent({ connections: options.concurrency + 1 });
  const limit = pLimit(options.concurrency);
  const webhooks: Promise<void>[] = [];
  const started = clock();
  let creationEnded = started;
  const progress: ProducerProgress = {
    attempts: options.attempts,
    payoutsCreated: 0,
    webhooksSent: 0,
    webhooksFailed: 0,
    webhooksDropped: 0,
    webhooksPending: 0,
  };
  const report = () => {
    progress.webhooksPending = limit.activeCount + limit.pendingCount;
    onProgress?.({ ...progress });
  };

  const notify = async (payoutId: string) => {
    const failure = await sendWebhook(agent, options.holviBaseUrl, options.webhookTimeoutMs);
    if (failure === undefined) progress.webhooksSent += 1;
    else {
      progress.webhooksFailed += 1;
      logger?.warn({ payoutId, failure }, 'webhook failed, not retried');
    }
    report();
  };

  const summary = (): ProducerSummary => {
    const creationSeconds = (creationEnded - started) / 1000;
    return {
      attempts: progress.attempts,
      payoutsCreated: progress.payoutsCreated,
      webhooksSent: progress.webhooksSent,
      webhooksFailed: progress.webhooksFailed,
      webhooksDropped: progress.webhooksDropped,
      elapsedMs: Math.round(clock() - started),
      creationRate: creationSeconds > 0 ? progress.payoutsCreated / creationSeconds : 0,
      aborted: signal?.aborted === true && progress.payoutsCreated < options.attempts,
    };
  };

  let creationFailure: unknown;
  try {
    for (let i = 0; i < options.attempts && !signal?.aborted; i++) {
      if (i > 0) await pause(options.sleepBetweenPayouts * 1000, signal);
      if (signal?.aborted) break;
      const payout = await createPayout(agent, options.expenzyBaseUrl);
      progress.payoutsCreated += 1;
      creationEnded = clock();
      if (random() < options.webhookDropRate) {
        progress.webhooksDropped += 1;
        logger?.debug({ payoutId: payout.id }, 'webhook dropped on purpose');
      } else {
        webhooks.push(limit(notify, payout.id));
      }
      report();
    }
  } catch (error) {
    creationFailure = error;
  }
  // Every committed payout gets its webhook, even when creation stopped early.
  await Promise.all(webhooks);
  await agent.close();
  if (creationFailure !== undefined) {
    const message = `payout creation failed: ${(creationFailure as Error).message}`;
    throw new ProducerError(message, summary(), { cause: creationFailure });
  }
  return summary();
}
