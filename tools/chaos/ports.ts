import { createServer } from 'node:net';

/** The stack's default ports (and the worker's SDK metrics port): a `make up` may be using them. */
const defaultPorts = new Set([5001, 5002, 5003, 6003, 7233, 8233, 55432]);

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * `count` distinct free ports. With `companionOffset`, each chosen port p also has p + offset free
 * (the worker serves the SDK's metrics on WORKER_METRICS_PORT + 1000).
 */
export async function freePorts(count: number, companionOffset?: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 200) throw new Error('could not find free ports');
    const port = await freePort();
    if (ports.has(port) || defaultPorts.has(port)) continue;
    if (companionOffset !== undefined) {
      const companion = port + companionOffset;
      if (companion > 65_535 || ports.has(companion) || defaultPorts.has(companion)) continue;
      if (!(await portIsFree(companion))) continue;
    }
    ports.add(port);
  }
  return [...ports];
}
