import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The stack's default ports (and the workers' SDK metrics ports): a `make up` may be using them. */
const defaultPorts = new Set([5001, 5002, 5003, 5004, 6003, 6004, 7233, 8233, 55432]);

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
 * The kernel's range for port-0 binds: where other programs' "random free port" lands (the
 * Temporal dev server picks its HTTP and metrics ports that way after ours are chosen).
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return [Number(low), Number(high)];
  } catch {
    return [32_768, 60_999];
  }
}

/** A port below the ephemeral range (so no later port-0 bind can take it), else one the kernel picks. */
async function candidatePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  if (low - floor < 2_000) return freePort();
  return floor + Math.floor(Math.random() * (low - floor - 1_000)); // room for a +1000 companion
}

/**
 * `count` distinct free ports, not the stack's defaults. With `companionOffset`, each chosen port
 * p also has p + offset free (the worker serves the SDK's metrics on WORKER_METRICS_PORT + 1000).
 */
export async function freePorts(count: number, companionOffset?: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 500) throw new Error('could not find free ports');
    const port = await candidatePort();
    if (ports.has(port) || defaultPorts.has(port) || !(await portIsFree(port))) continue;
    // Nor a port already taken as another's companion.
    if (companionOffset !== undefined && ports.has(port - companionOffset)) continue;
    if (companionOffset !== undefined) {
      const companion = port + companionOffset;
      if (companion > 65_535 || ports.has(companion) || defaultPorts.has(companion)) continue;
      if (!(await portIsFree(companion))) continue;
    }
    ports.add(port);
  }
  return [...ports];
}

/**
 * `count` distinct ports free now, the first ones from `base` upward (skipping the stack's
 * defaults): for a caller that must keep its stack in a band of ports of its own, away from
 * other stacks on the machine. `companionOffset` as in `freePorts`.
 */
export async function freePortsFrom(
  base: number,
  count: number,
  companionOffset?: number,
): Promise<number[]> {
  const ports: number[] = [];
  const taken = (port: number) =>
    ports.includes(port) || (companionOffset !== undefined && ports.includes(port - companionOffset));
  for (let port = base; ports.length < count; port++) {
    if (port > 65_535 || port > base + 2_000) throw new Error(`no ${count} free ports from ${base}`);
    if (taken(port) || defaultPorts.has(port) || !(await portIsFree(port))) continue;
    if (companionOffset !== undefined) {
      const companion = port + companionOffset;
      if (companion > 65_535 || taken(companion) || defaultPorts.has(companion)) continue;
      if (!(await portIsFree(companion))) continue;
    }
    ports.push(port);
  }
  return ports;
}
