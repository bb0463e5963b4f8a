import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * The worker's small HTTP face: /healthz (process up and polling) and /metrics, which joins
 * the application's metrics and the Temporal SDK's (fetched from the runtime's exporter).
 */
export function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  sdkMetricsUrl: string;
  healthy: () => boolean;
}): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/healthz') {
        const ok = options.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not running');
      } else if (req.method === 'GET' && req.url === '/metrics') {
        const [app, sdk] = await Promise.all([options.registry.metrics(), sdkMetrics(options.sdkMetricsUrl)]);
        res.writeHead(200, { 'content-type': options.registry.contentType }).end(`${app}\n${sdk}`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    })().catch(() => res.writeHead(500).end());
  });
  return new Promise((resolve) => server.listen(options.port, options.host, () => resolve(server)));
}

async function sdkMetrics(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return await response.text();
  } catch {
    return '# Temporal SDK metrics unavailable\n';
  }
}
