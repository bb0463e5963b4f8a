import type { GrpcRetryOptions } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { signalRetryOptions } from '../../src/temporal/sync-client.js';

type Status = Parameters<GrpcRetryOptions['delayFunction']>[1];
const status = (code: number, details: string) => ({ code, details, metadata: {} }) as unknown as Status;
const closing = status(8, 'workflow operation can not be applied because workflow is closing');
const rateLimited = status(8, 'namespace rate limit exceeded');
const unavailable = status(14, 'connection refused');

describe('signalRetryOptions', () => {
  const options = signalRetryOptions();

  it('retries a signal refused while the sync continues as new within tens of milliseconds, doubling up to 500 ms', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => options.delayFunction(attempt, closing))).toEqual([
      25, 50, 100, 200, 400, 500, 500,
    ]);
    expect(options.retryableDecider(1, closing)).toBe(true);
  });

  it("leaves every other refusal to the SDK's backoff: a second and more for rate limits", () => {
    expect(options.delayFunction(1, rateLimited)).toBeGreaterThanOrEqual(1_000);
    expect(options.delayFunction(1, unavailable)).toBeLessThan(1_000);
    expect(options.delayFunction(1, unavailable)).toBeGreaterThan(100);
  });

  it('retries what the SDK retries, and no more', () => {
    expect(options.retryableDecider(1, unavailable)).toBe(true);
    expect(options.retryableDecider(1, status(3, 'invalid argument'))).toBe(false);
    expect(options.retryableDecider(10, closing)).toBe(false);
  });
});
