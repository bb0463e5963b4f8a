import parseMs, { type StringValue } from 'ms';
import { z } from 'zod';
import { defaultPorts } from '../config/ports.js';
import { RECONCILE_INTERVAL_BOUNDS } from './workflows/sync-contract.js';
import { temporalConnectionFromEnv, type TemporalConnection } from './temporal/connection.js';

/**
 * Every setting of Holvi's services, read from the environment once and validated:
 * a bad value stops start-up with a message naming the variable.
 */
/**
 * Durations in the `ms` package's forms, the ones Temporal's own options take: `500ms`, `100 ms`,
 * `30s`, `2m`, `1h`, `24h`, `1d`. A bare number other than 0 is refused: a reader cannot tell
 * seconds from milliseconds, so a unit removes the doubt.
 */
const duration = (fallbackMs: number, bounds: { minMs?: number; maxMs?: number } = {}) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return fallbackMs;
      const text = value.trim();
      const ms = /^0+(?:\.0+)?$/.test(text) ? 0 : /^[\d.]+$/.test(text) ? NaN : parseMs(text as StringValue);
      if (!Number.isFinite(ms) || ms < 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is not a duration with a unit such as 500ms, 30s, 2m or 1h`,
        });
        return z.NEVER;
      }
      const { minMs = 0, maxMs = Infinity } = bounds;
      if (ms < minMs || ms > maxMs) {
        ctx.addIssue({ code: 'custom', message: `"${value}" is outside ${minMs} ms to ${maxMs} ms` });
        return z.NEVER;
      }
      return Math.round(ms);
    });

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const url = (fallback: string) =>
  z
    .url({ protocol: /^https?$/ })
    .default(fallback)
    .transform((value) => value.replace(/\/+$/, ''));
const dbUrl = (fallback: string) =>
  z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default(fallback);
const port = (fallback: number, min = 0) => int(fallback, min, 65_535);
const localDb = (role: string) => `postgres://${role}:${role}@127.0.0.1:${defaultPorts.postgres}/holvi`;
const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));

const schema = z
  .object({
    HOLVI_DATABASE_URL: dbUrl(localDb('holvi_app')),
    /**
     * The fence's own connection (src/fence/sync-fence.ts): it must reach one server session of
     * its own, so not through a transaction-mode pooler; the worker refuses to start otherwise.
     * Unset: HOLVI_DATABASE_URL, which may then go through a pooler only if this is set.
     */
    HOLVI_FENCE_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    HOLVI_MIGRATION_DATABASE_URL: dbUrl(localDb('holvi_owner')),
    HOLVI_DB_POOL_SIZE: int(10, 1, 100),
    EXPENZY_API_BASE_URL: url(`http://127.0.0.1:${defaultPorts.expenzy}`),
    EXPENZY_API_KEY: optionalSecret,
    EXPENZY_MAX_PARALLEL_CALLS: int(16, 1, 256),
    EXPENZY_CALL_TIMEOUT: duration(10_000),
    /**
     * The longest the partner may stay silent within a list answer, its first byte included (it
     * builds the whole list before it answers: seconds for a million payouts). A list is bounded
     * by its progress: a long one that keeps arriving is read on.
     */
    EXPENZY_LIST_IDLE_TIMEOUT: duration(60_000, { minMs: 1_000, maxMs: 10 * 60_000 }),
    /**
     * The most time one list is read for. Past it the list is cut where it got to, and the pass
     * handles what it read (a backlog larger than any cap still drains, the oldest last). Below
     * the FetchTransactions step's start-to-close timeout (src/workflows/activity-options.ts).
     */
    EXPENZY_LIST_TIMEOUT: duration(5 * 60_000, { minMs: 1_000, maxMs: 20 * 60_000 }),
    /**
     * The most of one partner answer Holvi holds whole before parsing it: an update's answer (one
     * payout, a few hundred bytes; a larger answer is refused) and each entry of the streamed
     * list (a larger one is quarantined unread, the list goes on). Memory holds at most
     * EXPENZY_MAX_PARALLEL_CALLS answers of this size (16 MiB at the defaults), and the list
     * stream about twice this size of entries; 1 MiB is thousands of times a payout.
     */
    EXPENZY_MAX_BUFFERED_RESPONSE_BYTES: int(1024 * 1024, 1024, 64 * 1024 * 1024),
    /**
     * The most of a list answer read. The list streams a batch at a time (the cap above bounds
     * its memory), so this bounds the rows one pass stages and a body that never ends, not
     * memory: 256 MiB is about 1.3 million payouts (a 100,000-payout list is about 20 MB). A
     * longer list is cut here: the pass handles what it read, and says so (log, metric, alert).
     */
    EXPENZY_MAX_LIST_RESPONSE_BYTES: int(256 * 1024 * 1024, 1024 * 1024, 2 ** 31 - 1),
    /** Refused: one figure cannot bound both the answers held whole and the streamed list. */
    EXPENZY_MAX_RESPONSE_BYTES: z
      .string()
      .optional()
      .refine((value) => value === undefined, {
        message:
          'is not read: set EXPENZY_MAX_LIST_RESPONSE_BYTES (the streamed list) or EXPENZY_MAX_BUFFERED_RESPONSE_BYTES (answers held whole)',
      }),
    EXPENZY_WEBHOOK_TOKEN: optionalSecret,
    // Read with the rest of the Temporal settings (profiles, TLS, API key) by temporalConnectionFromEnv.
    TEMPORAL_ADDRESS: z.string().min(1).optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).optional(),
    TEMPORAL_PROFILE: z.string().min(1).optional(),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('expenzy-sync'),
    SYNC_WORKFLOW_ID: z.string().min(1).default('expenzy-sync'),
    RECONCILE_INTERVAL: duration(30_000, RECONCILE_INTERVAL_BOUNDS),
    /**
     * Payouts per MarkProcessing step. Each step costs a fence tenure, a claim and the wait for its
     * slowest call, so small chunks leave the partner idle between steps; large ones leave more
     * claimed payouts to the next pass when a step dies. The Mark step's start-to-close timeout
     * (src/workflows/activity-options.ts) allows a whole chunk of calls to time out.
     */
    FETCH_BATCH_SIZE: int(2_000, 1, 5_000),
    HOLVI_API_HOST: z.string().default('127.0.0.1'),
    HOLVI_API_PORT: port(defaultPorts.api),
    WEBHOOK_RATE_LIMIT_PER_MINUTE: int(600_000, 1, 100_000_000),
    /**
     * Least time between two signals to the sync. Every signal costs the workflow a task, and a
     * task spent on a signal is one not spent on a pass: spaced signals keep a steady stream of
     * webhooks from slowing the passes, for at most this much more wait on a webhook's answer.
     */
    SIGNAL_MIN_INTERVAL: duration(100),
    /** How long /readyz stays ready while Temporal does not answer (routes/health.ts says why). */
    READY_TEMPORAL_GRACE: duration(30_000, { maxMs: 60 * 60_000 }),
    /**
     * How long a stopping worker (SIGTERM in a rollout) lets running activities finish before it
     * cancels them: above EXPENZY_CALL_TIMEOUT, so that a partner call in flight completes and its
     * answer is recorded. Kubernetes' terminationGracePeriodSeconds must be longer.
     */
    WORKER_SHUTDOWN_GRACE: duration(15_000, { maxMs: 10 * 60_000 }),
    WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
    WORKER_METRICS_PORT: port(defaultPorts.workerMetrics),
    /**
     * The Temporal SDK's own Prometheus exporter, on 127.0.0.1 only: the worker's /metrics reads it
     * there and serves it with its own, so it needs a port known in advance (not 0).
     */
    WORKER_SDK_METRICS_PORT: port(defaultPorts.workerSdkMetrics, 1),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((settings, ctx) => {
    if (settings.WORKER_SDK_METRICS_PORT === settings.WORKER_METRICS_PORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_SDK_METRICS_PORT'],
        message: `${settings.WORKER_SDK_METRICS_PORT} is WORKER_METRICS_PORT too: the two servers need a port each`,
      });
    }
    // A list holds entries of up to the first: a list cap below it would refuse such a list.
    if (settings.EXPENZY_MAX_LIST_RESPONSE_BYTES < settings.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['EXPENZY_MAX_LIST_RESPONSE_BYTES'],
        message: `${settings.EXPENZY_MAX_LIST_RESPONSE_BYTES} is below EXPENZY_MAX_BUFFERED_RESPONSE_BYTES (${settings.EXPENZY_MAX_BUFFERED_RESPONSE_BYTES})`,
      });
    }
  });

export type Config = Omit<
  z.output<typeof schema>,
  'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'EXPENZY_MAX_RESPONSE_BYTES' | 'HOLVI_FENCE_DATABASE_URL'
> & {
  /** As resolved: HOLVI_DATABASE_URL when unset. */
  HOLVI_FENCE_DATABASE_URL: string;
  /** As resolved from the profile and the variables. */
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  temporal: TemporalConnection;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  let temporal: TemporalConnection;
  try {
    temporal = temporalConnectionFromEnv(present);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `invalid configuration:\n  Temporal connection (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, TEMPORAL_TLS_*): ${reason}`,
    );
  }
  const settings: Omit<typeof result.data, 'EXPENZY_MAX_RESPONSE_BYTES'> = result.data;
  return {
    ...settings,
    HOLVI_FENCE_DATABASE_URL: settings.HOLVI_FENCE_DATABASE_URL ?? settings.HOLVI_DATABASE_URL,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    temporal,
  };
}
