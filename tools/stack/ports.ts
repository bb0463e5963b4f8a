import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { defaultPorts, type Ports } from '../../config/ports.js';

/** The stack's default ports: a `make up` may be using them, so no other stack takes one. */
const taken = new Set(Object.values(defaultPorts));

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
  return floor + Math.floor(Math.random() * (low - floor));
}

/** `count` distinct free ports, none of them one of the stack's defaults. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 500) throw new Error('could not find free ports');
    const port = await candidatePort();
    if (ports.has(port) || taken.has(port) || !(await portIsFree(port))) continue;
    ports.add(port);
  }
  return [...ports];
}

/**
 * `count` distinct ports free now, the first ones from `base` upward (skipping the stack's
 * defaults): for a caller that must keep its stack in a band of ports of its own, away from
 * other stacks on the machine.
 */
export async function freePortsFrom(base: number, count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = base; ports.length < count; port++) {
    if (port > 65_535 || port > base + 2_000) throw new Error(`no ${count} free ports from ${base}`);
    if (taken.has(port) || !(await portIsFree(port))) continue;
    ports.push(port);
  }
  return ports;
}

/** Bases for a stack's ports: PostgreSQL's from `postgres`, every other one from `base`. */
export interface PortBand {
  base: number;
  postgres: number;
}

/** Free ports for a whole stack: random ones, or the first free ones of `band`. */
export async function freeStackPorts(band?: PortBand): Promise<Ports> {
  const [postgres, temporal, temporalUi, expenzy, api, ...workers] = band
    ? [...(await freePortsFrom(band.postgres, 1)), ...(await freePortsFrom(band.base, 8))]
    : await freePorts(9);
  const [workerMetrics, workerSdkMetrics, worker2Metrics, worker2SdkMetrics] = workers;
  return {
    postgres: postgres!,
    temporal: temporal!,
    temporalUi: temporalUi!,
    expenzy: expenzy!,
    api: api!,
    workerMetrics: workerMetrics!,
    workerSdkMetrics: workerSdkMetrics!,
    worker2Metrics: worker2Metrics!,
    worker2SdkMetrics: worker2SdkMetrics!,
  };
}
