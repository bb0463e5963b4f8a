import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { requestSync } from '../temporal/request-sync.js';
import { signalRetryInterceptor } from '../temporal/signal-retry.js';

/** What the API needs from Temporal; tests may pass a fake for unit tests. */
export interface TemporalGateway {
  /** Durably hands "payouts may be waiting" to the sync workflow, or throws. */
  requestSync(): Promise<void>;
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long a webhook waits for Temporal before answering 503 (Expenzy does not retry). */
const SIGNAL_DEADLINE_MS = 5_000;

/** A lazily connected client: the API starts (and answers 503) while Temporal is down. */
export function createTemporalGateway(config: Config): TemporalGateway {
  const connection = Connection.lazy({
    ...config.temporal.connectionOptions,
    interceptors: [signalRetryInterceptor()],
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  return {
    requestSync: () =>
      connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => requestSync(client, config)),
    async healthy() {
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.healthService.check({}));
        return true;
      } catch {
        return false;
      }
    },
    close: () => connection.close(),
  };
}
