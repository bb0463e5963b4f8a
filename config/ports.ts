// JSON, not TypeScript, so that scripts/stack.sh (node -p) reads the same file as the services and tools.
import ports from './ports.json' with { type: 'json' };

/** Where each part of the local stack listens unless told otherwise (`make up`'s ports). */
export interface Ports {
  /** The Expenzy simulator (EXPENZY_PORT). */
  expenzy: number;
  /** Holvi's API (HOLVI_API_PORT). */
  api: number;
  /** The worker's /metrics and /healthz (WORKER_METRICS_PORT). */
  workerMetrics: number;
  /** stack.sh's second worker (WORKER2_METRICS_PORT). */
  worker2Metrics: number;
  /** The Temporal SDK's own exporter in the worker, which its /metrics re-exports (WORKER_SDK_METRICS_PORT). */
  workerSdkMetrics: number;
  /** The same for the second worker (WORKER2_SDK_METRICS_PORT). */
  worker2SdkMetrics: number;
  /** The Temporal server (TEMPORAL_ADDRESS). */
  temporal: number;
  /** The Temporal Web UI (STACK_TEMPORAL_UI_PORT). */
  temporalUi: number;
  /** PostgreSQL (PGPORT). */
  postgres: number;
}

export const defaultPorts: Readonly<Ports> = ports;
