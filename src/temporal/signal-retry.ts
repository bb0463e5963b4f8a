import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';

/** gRPC's RESOURCE_EXHAUSTED status code (the SDK does not re-export grpc-js's constants). */
const RESOURCE_EXHAUSTED = 8;

/** Waits before a signal refused because the sync is continuing as new is sent again: doubling. */
const CLOSING_FIRST_RETRY_MS = 25;
const CLOSING_MAX_RETRY_MS = 500;

/**
 * While the sync continues as new, Temporal refuses signals with RESOURCE_EXHAUSTED "workflow is
 * closing" until the new run exists, one workflow task later. The SDK's default backs off 1.7 s
 * and more on RESOURCE_EXHAUSTED (meant for rate limits), and every webhook that arrives meanwhile
 * waits behind that one signal. This retries that refusal within tens of milliseconds and leaves
 * every other error to the SDK's defaults (which attempts are retried, and how many).
 */
export const signalRetryInterceptor = () => makeGrpcRetryInterceptor(signalRetryOptions());

export function signalRetryOptions(): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return {
    retryableDecider: defaults.retryableDecider,
    delayFunction: (attempt, status) =>
      status.code === RESOURCE_EXHAUSTED && /workflow is closing/i.test(status.details ?? '')
        ? Math.min(CLOSING_FIRST_RETRY_MS * 2 ** (attempt - 1), CLOSING_MAX_RETRY_MS)
        : defaults.delayFunction(attempt, status),
  };
}
