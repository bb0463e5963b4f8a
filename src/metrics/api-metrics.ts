import { Counter, Histogram, type Registry } from 'prom-client';

/** The Holvi API's metrics: how many webhooks came in, and how few signals they cost. */
export function createApiMetrics(registry: Registry) {
  const registers = [registry];
  return {
    webhooksReceived: new Counter({
      name: 'holvi_webhooks_received_total',
      help: 'Expenzy webhooks by answer (ok, unavailable, unauthorized)',
      labelNames: ['result'] as const,
      registers,
    }),
    signalsSent: new Counter({
      name: 'holvi_sync_signals_sent_total',
      help: 'Signal-with-start calls to the sync workflow by result (ok, error)',
      labelNames: ['result'] as const,
      registers,
    }),
    signalSeconds: new Histogram({
      name: 'holvi_sync_signal_duration_seconds',
      help: 'Duration of signal-with-start calls to the sync workflow',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
