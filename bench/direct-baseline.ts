// NOT PART OF THE PRODUCT. The benchmark's yardstick: the sync's three steps (FetchTransactions,
// SettleApplied, RecordPayout, MarkProcessing; QuarantinePayouts when a payout is malformed) in one process,
// with nothing durable around them — no Temporal server, no history, no task queue, no signal.
//
// It runs the product's own activity functions (src/activities, hence the same Expenzy client,
// the same SQL, the same batch size and parallelism limit, all read by src/config.ts from the
// same environment as the worker), each inside @temporalio/testing's MockActivityEnvironment:
// an in-memory activity context that only answers activityInfo().attempt, heartbeat() and log.
// The loop is the workflow's (src/workflows/expenzy-sync.ts) written as plain async code, and a
// failed activity is retried with the workflow's retry policies (activity-options.ts).
//
// A webhook is any request to http://127.0.0.1:$BASELINE_PORT/ (0: any free port); it sets the
// same "pending" flag the workflow's signal sets. Prints `ready <port>` once listening.
//   node --import tsx bench/direct-baseline.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { ActivityOptions } from '@temporalio/workflow';
import { createActivities } from '../src/activities/index.js';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { expenzyClientFromConfig } from '../src/partner/expenzy-client.js';
import type { SyncCounters } from '../src/workflows/sync-contract.js';
import { fetchOptions, markOptions, recordOptions } from '../src/workflows/activity-options.js';
import { chunkCount, oldestChunk } from '../src/workflows/pass-chunks.js';
import { SyncFence } from '../src/fence/sync-fence.js';
import { activityDependencies } from '../src/worker/create-worker.js';

const config = loadConfig();
const pool = createPool(config.HOLVI_DATABASE_URL, config.HOLVI_DB_POOL_SIZE);
const expenzy = expenzyClientFromConfig(config);
const fence = new SyncFence({
  connectionString: config.HOLVI_FENCE_DATABASE_URL,
  callTimeoutMs: config.EXPENZY_CALL_TIMEOUT,
});
const activities = createActivities(activityDependencies(config, { pool, expenzy, fence }));

/** Warnings and errors to stderr, as the worker with LOG_LEVEL=warn; the rest is dropped. */
const shown = new Set<LogLevel>(['WARN', 'ERROR']);
const logger: Logger = {
  log(level: LogLevel, message: string, meta?: LogMetadata) {
    if (shown.has(level)) process.stderr.write(`${JSON.stringify({ level, message, ...meta })}\n`);
  },
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message, meta) => logger.log('WARN', message, meta),
  error: (message, meta) => logger.log('ERROR', message, meta),
};

/**
 * One activity call, retried as the workflow's policy says; after `maximumAttempts` (when the
 * policy has one) it throws, as the activity's failure would reach the workflow.
 */
async function execute<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  options: ActivityOptions,
  ...args: A
): Promise<R> {
  const retry = options.retry ?? {};
  const initial = msToNumber(retry.initialInterval ?? '1 s');
  const maximum = msToNumber(retry.maximumInterval ?? initial * 100);
  const coefficient = retry.backoffCoefficient ?? 2;
  for (let attempt = 1; ; attempt++) {
    const env = new MockActivityEnvironment(
      {
        attempt,
        activityType: fn.name,
        workflowExecution: { workflowId: config.SYNC_WORKFLOW_ID, runId: 'direct-baseline' },
      },
      { logger },
    );
    try {
      return (await env.run(fn, ...args)) as R;
    } catch (error) {
      if (retry.maximumAttempts && attempt >= retry.maximumAttempts) throw error;
      logger.warn('activity failed, retrying', { activity: fn.name, attempt, error: String(error) });
      await sleep(Math.min(initial * coefficient ** (attempt - 1), maximum));
    }
  }
}

/** The workflow's orLeaveToNextPass: what failed through all its attempts waits for a later pass. */
async function orLeaveToNextPass<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    logger.warn('gave up after the retries; left to a later pass', { error: String(error) });
    return undefined;
  }
}

const counters: SyncCounters = { passes: 0, recorded: 0, marked: 0, rejected: 0, signals: 0 };
let pending = true;
let wake: (() => void) | undefined;

/** The workflow's runPass (src/workflows/expenzy-sync.ts), step for step, without continue-as-new. */
async function runPass(): Promise<boolean> {
  const plan = await execute(activities.FetchTransactions, fetchOptions, { pass: counters.passes + 1 });
  let progressed = false;
  let retryLater = 0;
  if (plan.settle > 0) {
    const settled = await execute(activities.SettleApplied, recordOptions, { passId: plan.passId });
    counters.marked += settled.settled;
    progressed ||= settled.settled > 0;
  }
  if (plan.payouts > 0) {
    const recorded = await execute(activities.RecordPayout, recordOptions, plan);
    counters.recorded += recorded.inserted;
    progressed ||= recorded.inserted > 0;
  }
  for (let done = 0; done < chunkCount(plan.payoutSeqEnd, plan.chunkSize); done++) {
    const marked = await orLeaveToNextPass(
      execute(activities.MarkProcessing, markOptions, oldestChunk(plan, plan.payoutSeqEnd, done)),
    );
    if (!marked || marked.fenceMoved) {
      retryLater++;
      break;
    }
    counters.marked += marked.marked;
    progressed ||= marked.marked > 0;
    retryLater += marked.retryLater;
  }
  for (let done = 0; done < chunkCount(plan.rejectedSeqEnd, plan.chunkSize); done++) {
    const range = oldestChunk(plan, plan.rejectedSeqEnd, done);
    const quarantined = await orLeaveToNextPass(execute(activities.QuarantinePayouts, markOptions, range));
    if (!quarantined || quarantined.fenceMoved) {
      retryLater++;
      break;
    }
    counters.rejected += quarantined.quarantined;
    progressed ||= quarantined.quarantined + quarantined.setToError > 0;
    retryLater += quarantined.retryLater;
  }
  counters.passes++;
  return retryLater > 0 && progressed;
}

/** The workflow's main loop: wait for a webhook (or the reconciliation interval), then pass until done. */
async function loop(stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    if (!pending) {
      await Promise.race([
        new Promise<void>((resolve) => (wake = resolve)),
        sleep(config.RECONCILE_INTERVAL, undefined, { signal: stop }).catch(() => undefined),
      ]);
      wake = undefined;
    }
    let more = true;
    while ((more || pending) && !stop.aborted) {
      pending = false;
      more = await runPass();
    }
  }
}

const server = createServer((request, response) => {
  if (request.url === '/status') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counters));
    return;
  }
  counters.signals++;
  pending = true;
  wake?.();
  response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) =>
  server.listen(Number(process.env.BASELINE_PORT ?? 0), '127.0.0.1', resolve),
);
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);

const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stop.abort();
    wake?.();
    // A pass in progress may take seconds; nothing here needs it finished.
    setTimeout(() => process.exit(0), 1_000).unref();
  });
}
try {
  await loop(stop.signal);
} finally {
  server.close();
  await expenzy.close();
  await fence.close();
  await pool.end();
}
