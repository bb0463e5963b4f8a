import { z } from 'zod';
import { defaultPorts } from '../config/ports.js';
import { defaultKnobs, knobSettingsSchema, type KnobSettings } from './knobs.js';

const knob = knobSettingsSchema.shape;
const envRate = (fallback: number) => z.coerce.number().pipe(z.number().min(0).max(1)).default(fallback);

const envSchema = z.object({
  EXPENZY_DATABASE_URL: z
    .url()
    .default(`postgres://expenzy:expenzy@127.0.0.1:${defaultPorts.postgres}/expenzy`),
  EXPENZY_HOST: z.string().min(1).default('127.0.0.1'),
  EXPENZY_PORT: z.coerce.number().int().min(0).max(65_535).default(defaultPorts.expenzy),
  EXPENZY_ADMIN_ENABLED: z.stringbool().default(false),
  EXPENZY_SEED: z.coerce.number().int().optional(),
  EXPENZY_OUTAGE_SECONDS: z.coerce.number().min(0).default(0),
  EXPENZY_FAILURE_RATE: envRate(defaultKnobs.failureRate),
  EXPENZY_FAIL_AFTER_COMMIT_RATE: envRate(defaultKnobs.failAfterCommitRate),
  EXPENZY_LATENCY_MS: knob.latencyMs.default(defaultKnobs.latencyMs),
  EXPENZY_LIST_LATENCY_MS: knob.latencyMs.optional(),
  EXPENZY_LIST_FAILURE_RATE: envRate(defaultKnobs.listFailureRate),
  EXPENZY_REFUSE_UPDATES: knob.refuseUpdates.default(defaultKnobs.refuseUpdates),
  EXPENZY_MALFORMED_RATE: envRate(defaultKnobs.malformedRate),
  EXPENZY_MALFORMED_KINDS: z
    .string()
    .transform((list) => list.split(',').map((kind) => kind.trim()))
    .pipe(knob.malformedKinds)
    .default(defaultKnobs.malformedKinds),
  EXPENZY_TIME_FORMAT: knob.timeFormat.default(defaultKnobs.timeFormat),
  EXPENZY_AMOUNT_AS_NUMBER: z.stringbool().default(defaultKnobs.amountAsNumber),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface ExpenzyConfig {
  databaseUrl: string;
  host: string;
  port: number;
  adminEnabled: boolean;
  seed: number | undefined;
  outageSeconds: number;
  knobs: KnobSettings;
  logLevel: string;
}

/** Reads and validates the environment once; the error names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExpenzyConfig {
  // `FOO=` in a compose file means "not set", not "empty string".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid Expenzy simulator environment:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.EXPENZY_DATABASE_URL,
    host: e.EXPENZY_HOST,
    port: e.EXPENZY_PORT,
    adminEnabled: e.EXPENZY_ADMIN_ENABLED,
    seed: e.EXPENZY_SEED,
    outageSeconds: e.EXPENZY_OUTAGE_SECONDS,
    knobs: {
      failureRate: e.EXPENZY_FAILURE_RATE,
      failAfterCommitRate: e.EXPENZY_FAIL_AFTER_COMMIT_RATE,
      latencyMs: e.EXPENZY_LATENCY_MS,
      listLatencyMs: e.EXPENZY_LIST_LATENCY_MS ?? null,
      listFailureRate: e.EXPENZY_LIST_FAILURE_RATE,
      refuseUpdates: e.EXPENZY_REFUSE_UPDATES,
      malformedRate: e.EXPENZY_MALFORMED_RATE,
      malformedKinds: e.EXPENZY_MALFORMED_KINDS,
      timeFormat: e.EXPENZY_TIME_FORMAT,
      amountAsNumber: e.EXPENZY_AMOUNT_AS_NUMBER,
    },
    logLevel: e.LOG_LEVEL,
  };
}
