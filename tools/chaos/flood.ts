import autocannon from 'autocannon';

export interface FloodResult {
  requests: number;
  /** Answers other than 2xx (503: Temporal refused the signal). */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  latencyMs: { p50: number; p99: number; max: number };
  durationSeconds: number;
}

/**
 * `amount` webhook calls over `connections` keep-alive connections, as fast as the API answers,
 * to 127.0.0.1 only. The latency is autocannon's: from writing a request to its full answer.
 */
export async function floodWebhooks(
  apiUrl: string,
  amount: number,
  connections: number,
): Promise<FloodResult> {
  const url = new URL('/expenzy/webhook/', apiUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`the flood goes to 127.0.0.1 only, not ${url.hostname}`);
  const result = await autocannon({ url: url.href, method: 'GET', connections, amount, timeout: 10 });
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    durationSeconds: result.duration,
  };
}
