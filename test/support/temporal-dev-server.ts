import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { freePorts } from '../../tools/stack/ports.js';

const root = new URL('../../', import.meta.url).pathname;

export interface DevServer {
  address: string;
  stop(): Promise<void>;
}

/** The installed `temporal` CLI (installed by scripts/install-temporal.sh when missing). */
export function temporalBinary(): string {
  return execFileSync('bash', [`${root}scripts/install-temporal.sh`], { encoding: 'utf8' }).trim();
}

/** Starts `temporal server start-dev` (in-memory, headless) on free ports and waits until it answers. */
export async function startTemporalDevServer(): Promise<DevServer> {
  // Below the kernel's range for port-0 binds: no other process's connection takes them meanwhile.
  const [port, httpPort, metricsPort] = (await freePorts(3)) as [number, number, number];
  const child: ChildProcess = spawn(
    temporalBinary(),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--http-port',
      String(httpPort),
      '--metrics-port',
      String(metricsPort),
      '--log-level',
      'error',
      // As scripts/stack.sh starts it: its default (20 reads a second) throttles every workflow step.
      '--dynamic-config-value',
      'history.transferProcessorMaxPollRPS=1000',
    ],
    { stdio: 'ignore' },
  );
  const address = `127.0.0.1:${port}`;
  await waitUntilReachable(address, child);
  return {
    address,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitUntilReachable(address: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.healthService.check({});
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
