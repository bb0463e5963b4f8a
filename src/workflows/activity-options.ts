import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Every timeout and retry policy of the sync, named and explained. Fetch and record never give
 * up: a payout must never be dropped because the partner or the database was down for a while;
 * the backoff is capped so the sync resumes quickly once it is back. The steps that send return
 * the partner's failures per payout instead of failing, so their retries only cover a dead
 * worker, a lost fence or a database error.
 */

/** The partner's 500s come at random; a short first retry absorbs most of them. */
const partnerRetry = {
  initialInterval: '100 ms',
  backoffCoefficient: 2,
  maximumInterval: '15 s',
} as const;

/**
 * Every step that lists or sends first waits for the fence, heartbeating: behind a stalled
 * holder, or 12 s after one died holding it (the longest call it may have had in flight). The
 * start-to-close timeout leaves room for that wait; the heartbeat timeout notices a killed
 * worker within 15 s. Partner calls and staged batches heartbeat (at most once a second), and
 * one call is bounded by EXPENZY_CALL_TIMEOUT (10 s), below the heartbeat timeout.
 */
const fencedStep = { startToCloseTimeout: '10 minutes', heartbeatTimeout: '15 s' } as const;

/**
 * The pass's list, streamed and staged: seconds for 100,000 payouts, tens of seconds for a
 * million. It is bounded by its progress and its own caps (EXPENZY_LIST_IDLE_TIMEOUT,
 * EXPENZY_LIST_TIMEOUT, at most 20 minutes), and heartbeats throughout: the start-to-close
 * timeout only has to stay above the list's cap and the fence's wait.
 */
export const fetchOptions: ActivityOptions = {
  ...fencedStep,
  startToCloseTimeout: '30 minutes',
  retry: partnerRetry,
};

/**
 * SQL only: recording a pass's payouts (a few thousand per statement, resumed after the last
 * one done) and settling. Retried quickly through a database restart or a killed worker.
 */
export const recordOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 s',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 s' },
};

/**
 * One partner call per payout of a chunk (FETCH_BATCH_SIZE), bounded in parallelism. The
 * start-to-close timeout lets every call of the largest chunk time out (5,000 / 16 in flight ×
 * 10 s is about 52 minutes) after the fence's wait: a partner that hangs is waited for, since a
 * step that gives up leaves its claimed payouts to the next pass's list. Attempts are bounded
 * (about 13 s of backoff between them): a chunk that keeps failing must not hold up the sync; the workflow
 * ends the pass and the next pass lists its payouts again.
 */
export const markOptions: ActivityOptions = {
  ...fencedStep,
  startToCloseTimeout: '1 hour',
  retry: { ...partnerRetry, maximumAttempts: 8 },
};
