import { parseArgs } from 'node:util';
import { defaultPorts } from '../config/ports.js';

export interface ProducerOptions {
  /** Payouts to create (GENERATION_ATTEMPTS). */
  attempts: number;
  /** Webhooks in flight at once (CONCURRENCY). */
  concurrency: number;
  /** Seconds to wait between two creations (SLEEP_BETWEEN_PAYOUT). */
  sleepBetweenPayouts: number;
  expenzyBaseUrl: string;
  holviBaseUrl: string;
  /** Fraction of webhooks deliberately not sent (WEBHOOK_DROP_RATE), for the lost-webhooks scenario. */
  webhookDropRate: number;
  webhookTimeoutMs: number;
}

export const defaultProducerOptions: ProducerOptions = {
  attempts: 1,
  concurrency: 1,
  sleepBetweenPayouts: 0.02,
  expenzyBaseUrl: `http://127.0.0.1:${defaultPorts.expenzy}`,
  holviBaseUrl: `http://127.0.0.1:${defaultPorts.api}`,
  webhookDropRate: 0,
  webhookTimeoutMs: 10_000,
};

/** A bad option value; the CLI prints the message and exits with 2. */
export class OptionError extends Error {}

type Env = Record<string, string | undefined>;
type Parse<T> = (name: string, raw: string) => T;

const integer =
  (min: number, max: number): Parse<number> =>
  (name, raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      throw new OptionError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };

const decimal =
  (min: number, max: number): Parse<number> =>
  (name, raw) => {
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value < min || value > max) {
      throw new OptionError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  };

const httpUrl: Parse<string> = (name, raw) => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    throw new OptionError(`${name} must be an http(s) base URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
};

/** An empty value counts as unset, so `make call attempts=` falls back to the default. */
function pick<T>(fallback: T, parse: Parse<T>, ...sources: [name: string, raw: string | undefined][]): T {
  for (const [name, raw] of sources) {
    if (raw !== undefined && raw.trim() !== '') return parse(name, raw.trim());
  }
  return fallback;
}

/** Options from the environment, overridden by `--attempts N --concurrency C --sleep S`. */
export function producerOptionsFrom(env: Env, argv: string[]): ProducerOptions {
  let flags: Record<string, string | undefined>;
  try {
    ({ values: flags } = parseArgs({
      args: argv,
      options: { attempts: { type: 'string' }, concurrency: { type: 'string' }, sleep: { type: 'string' } },
    }));
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
  const d = defaultProducerOptions;
  return {
    attempts: pick(
      d.attempts,
      integer(1, 10_000_000),
      ['--attempts', flags.attempts],
      ['GENERATION_ATTEMPTS', env.GENERATION_ATTEMPTS],
    ),
    concurrency: pick(
      d.concurrency,
      integer(1, 10_000),
      ['--concurrency', flags.concurrency],
      ['CONCURRENCY', env.CONCURRENCY],
    ),
    sleepBetweenPayouts: pick(
      d.sleepBetweenPayouts,
      decimal(0, 3600),
      ['--sleep', flags.sleep],
      ['SLEEP_BETWEEN_PAYOUT', env.SLEEP_BETWEEN_PAYOUT],
    ),
    expenzyBaseUrl: pick(d.expenzyBaseUrl, httpUrl, ['EXPENZY_API_BASE_URL', env.EXPENZY_API_BASE_URL]),
    holviBaseUrl: pick(d.holviBaseUrl, httpUrl, ['HOLVI_API_BASE_URL', env.HOLVI_API_BASE_URL]),
    webhookDropRate: pick(d.webhookDropRate, decimal(0, 1), ['WEBHOOK_DROP_RATE', env.WEBHOOK_DROP_RATE]),
    webhookTimeoutMs: pick(d.webhookTimeoutMs, integer(1, 600_000), [
      'WEBHOOK_TIMEOUT_MS',
      env.WEBHOOK_TIMEOUT_MS,
    ]),
  };
}
