import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

export interface FloodResult {
  requests: number;
  /** Answers other than 2xx (503: Temporal refused the signal). */
  non2xx: number;
  /** Connection errors and timeouts (autocannon counts a timeout as an error). */
  errors: number;
  latencyMs: { p50: number; p99: number; max: number };
  durationSeconds: number;
}

/** The fields of autocannon's `--json` result that the flood reads. */
interface AutocannonJson {
  latency: { p50: number; p99: number; max: number };
  requests: { total: number };
  duration: number;
  errors: number;
  non2xx: number;
}

const autocannonCli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/**
 * `amount` webhook calls over `connections` keep-alive connections, as fast as the API answers,
 * to 127.0.0.1 only. autocannon runs as a process of its own: in the runner's process, the
 * producer and the report's polling would delay its event loop and inflate the latencies it
 * measures (from writing a request to its full answer).
 */
export async function floodWebhooks(
  apiUrl: string,
  amount: number,
  connections: number,
): Promise<FloodResult> {
  const url = new URL('/expenzy/webhook/', apiUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`the flood goes to 127.0.0.1 only, not ${url.hostname}`);
  const args = ['-c', String(connections), '-a', String(amount), '-t', '10', '--json', url.href];
  const { stdout } = await promisify(execFile)(process.execPath, [autocannonCli, ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout) as AutocannonJson;
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    durationSeconds: result.duration,
  };
}
