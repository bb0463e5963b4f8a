import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Every timeout and retry policy of the sync, named and explained. Fetch and record never give
 * up: a payout must never be dropped because the partner or the database was down for a while;
 * the backoff is capped so the sync resumes quickly once it is back. Non-retryable refusals are
 * returned per payout by the activities instead of failing the batch.
 */

/** The partner's 500s come at random; a short first retry absorbs most of them. */
const partnerRetry = {
  initialInterval: '100 ms',
  backoffCoefficient: 2,
  maximumInterval: '15 s',
} as const;

/**
 * One list call; with 100,000 payouts listed it takes seconds, with partner latency more. The
 * activity heartbeats around the call (itself bounded by EXPENZY_CALL_TIMEOUT, 10 s), so a
 * killed worker is noticed in 15 s rather than at the end of the 2 minutes.
 */
export const fetchOptions: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 s',
  retry: partnerRetry,
};

/** One SQL round trip; retried quickly through a database restart or a killed worker. */
export const recordOptions: ActivityOptions = {
  startToCloseTimeout: '10 s',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '5 s' },
};

/**
 * One partner call per payout of the batch, bounded in parallelism: minutes when the partner
 * is slow. The heartbeat after each call lets a killed worker's attempt be retried within
 * seconds instead of at the end of the start-to-close timeout. Attempts are bounded (about
 * 25 s of backoff): a payout the partner keeps failing must not hold up every later one. The
 * workflow then leaves it to the next pass, which lists it again while it is `notifying`.
 */
export const markOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 s',
  retry: { ...partnerRetry, maximumAttempts: 8 },
};
