import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Installs the Temporal runtime once per process: SDK logs (which carry workflow id, run id,
 * activity type and attempt) go to pino as JSON, and the SDK's own metrics are served in
 * Prometheus format on `sdkMetricsAddress`, which the worker's /metrics then re-exports.
 */
export function installRuntime(logger: Logger, sdkMetricsAddress: string): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) =>
      logger[LEVELS[entry.level]]({ ...entry.meta }, entry.message),
    ),
    telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } },
  });
}
