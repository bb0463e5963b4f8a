import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPorts } from '../config/ports.js';
import { freePort, freePorts } from '../tools/stack/ports.js';
import { temporalBinary } from './support/temporal-dev-server.js';

// scripts/stack.sh with the one service it runs without the rest of the project: a Temporal dev
// server, on free ports, its state in a temporary STACK_DIR (a running `make up` is not touched).

const root = new URL('../', import.meta.url).pathname;
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

let stackDir: string;
let env: NodeJS.ProcessEnv;
let address: string;

async function stack(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run('bash', [`${root}scripts/stack.sh`, ...args], {
      env: { ...env, ...extraEnv },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const temporalPid = () => Number(readFileSync(join(stackDir, 'pids/temporal.pid'), 'utf8'));

/** The end of the dev server's log, for a failure's message. */
const temporalLog = () => {
  const log = join(stackDir, 'logs/temporal.log');
  return existsSync(log) ? `temporal.log:\n${readFileSync(log, 'utf8').slice(-3_000)}` : 'no temporal.log';
};

/** Processes whose command line mentions this test's STACK_DIR: what the stack runs. */
function processesOfThisStack(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stackDir);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** The process group of a pid (field 5 of /proc/PID/stat, after the parenthesised name). */
const processGroup = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);

async function temporal(...args: string[]) {
  return run(temporalBinary(), [...args, '--address', address]);
}

beforeAll(async () => {
  stackDir = mkdtempSync(join(tmpdir(), 'stack-test-'));
  // Below the kernel's range for port-0 binds: no other process's connection can take them
  // while the server is down between tests.
  const [port, uiPort] = await freePorts(2);
  address = `127.0.0.1:${port}`;
  env = {
    ...process.env,
    STACK_DIR: stackDir,
    STACK_SERVICES: 'temporal',
    TEMPORAL_ADDRESS: address,
    STACK_TEMPORAL_UI_PORT: String(uiPort),
    STACK_STOP_GRACE: '5',
  };
});

afterAll(async () => {
  await stack(['down']);
  rmSync(stackDir, { recursive: true, force: true });
});

describe('scripts/stack.sh', () => {
  it('on a failure names the service, shows its log and stops what it started', async () => {
    const closedPort = await freePort();
    const outcome = await stack(['up'], {
      STACK_SERVICES: 'temporal migrate',
      HOLVI_DATABASE_URL: `postgres://nobody:nobody@127.0.0.1:${closedPort}/holvi`,
      HOLVI_MIGRATION_DATABASE_URL: `postgres://nobody:nobody@127.0.0.1:${closedPort}/holvi`,
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('migrate failed to start');
    expect(outcome.stderr).toContain('migrate.log');
    expect(outcome.stdout).toContain('stopping temporal');
    expect(processesOfThisStack()).toEqual([]);
  });

  it('starts a service in a process group of its own and prints the URLs', async () => {
    const outcome = await stack(['up']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain(`Temporal          ${address}, Web UI http://127.0.0.1:`);
    expect(processGroup(temporalPid())).toBe(temporalPid());
    expect((await stack(['status'])).code).toBe(0);
  });

  it('leaves a running service alone on a second up', async () => {
    const before = temporalPid();
    const outcome = await stack(['up']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout, temporalLog()).toContain('temporal: already running');
    expect(temporalPid()).toBe(before);
  });

  it('restarts a killed service, which keeps its state in STACK_DIR', async () => {
    await temporal('operator', 'namespace', 'create', '--namespace', 'stack-test');
    expect((await stack(['kill', 'temporal'])).code).toBe(0);
    const status = await stack(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/temporal\s+DEAD/);

    expect((await stack(['restart', 'temporal'])).code).toBe(0);
    const described = await temporal('operator', 'namespace', 'describe', '--namespace', 'stack-test');
    expect(described.stdout).toContain('stack-test');
    expect(existsSync(join(stackDir, 'temporal/temporal.db'))).toBe(true);
  });

  it("defaults to config/ports.json's ports, the ones the services read", async () => {
    const moved = /^(PGPORT|TEMPORAL_ADDRESS|STACK_TEMPORAL_UI_PORT|\w+_PORT|\w+_URL)$/;
    const unmoved = Object.fromEntries(Object.entries(env).filter(([name]) => !moved.test(name)));
    const { stdout } = await run('bash', [`${root}scripts/stack.sh`, 'urls'], {
      env: { ...unmoved, STACK_SERVICES: 'postgres temporal expenzy worker worker2 api' },
    });
    const ports = defaultPorts;
    expect(stdout).toContain(`PostgreSQL        127.0.0.1:${ports.postgres} `);
    expect(stdout).toContain(
      `Temporal          127.0.0.1:${ports.temporal}, Web UI http://127.0.0.1:${ports.temporalUi}\n`,
    );
    expect(stdout).toContain(`Expenzy           http://127.0.0.1:${ports.expenzy} `);
    expect(stdout).toContain(`Worker metrics    http://127.0.0.1:${ports.workerMetrics}/metrics`);
    expect(stdout).toContain(`Worker 2 metrics  http://127.0.0.1:${ports.worker2Metrics}/metrics`);
    expect(stdout).toContain(`Holvi API         http://127.0.0.1:${ports.api} `);
  });

  it('down stops the whole process group', async () => {
    const outcome = await stack(['down']);
    expect(outcome.code).toBe(0);
    expect(processesOfThisStack()).toEqual([]);
    expect(existsSync(join(stackDir, 'pids/temporal.pid'))).toBe(false);
    expect((await stack(['status'])).stdout).toMatch(/temporal\s+stopped/);
  });
});

describe('scripts/stack.sh with an external partner (EXPENZY_API_BASE_URL elsewhere)', () => {
  let partner: Server;
  let partnerUrl: string;
  const calls: string[] = [];

  beforeAll(async () => {
    partner = createServer((req, res) => {
      calls.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
    const { port } = partner.address() as { port: number };
    partnerUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => partner.close(resolve));
  });

  it('leaves the simulator out and checks the partner with a list call that changes nothing', async () => {
    const partnerEnv = {
      STACK_SERVICES: 'expenzy',
      EXPENZY_API_BASE_URL: partnerUrl,
      EXPENZY_API_KEY: 'k-123',
    };
    const outcome = await stack(['up'], partnerEnv);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(calls).toEqual(['POST /api/transaction/?state=notifying Bearer k-123']);
    expect(outcome.stdout).toContain(`Expenzy           ${partnerUrl} (external partner`);
    expect(existsSync(join(stackDir, 'pids/expenzy.pid'))).toBe(false);
    const status = await stack(['status'], partnerEnv);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/partner\s+external, answers/);
    expect((await stack(['start', 'expenzy'], partnerEnv)).stderr).toContain('external partner');
  });

  it('stops when the partner does not answer, naming it', async () => {
    const outcome = await stack(['up'], {
      STACK_SERVICES: 'expenzy',
      EXPENZY_API_BASE_URL: `http://127.0.0.1:${await freePort()}`,
      EXPENZY_CALL_TIMEOUT: '2s',
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('did not answer');
    expect(outcome.stderr).toMatch(/error: partner failed to start/);
  });
});

describe('scripts/stack.sh in a clone without node_modules', () => {
  it('exits 2 and names the command to run', async () => {
    const clone = mkdtempSync(join(tmpdir(), 'stack-clone-'));
    try {
      cpSync(`${root}scripts`, join(clone, 'scripts'), { recursive: true });
      const failed = await run('bash', [join(clone, 'scripts/stack.sh'), 'up'], {
        env: { ...env, STACK_DIR: join(clone, '.stack') },
      }).catch((error: { code: number; stderr: string }) => error);
      expect('code' in failed ? failed.code : 0).toBe(2);
      expect('stderr' in failed ? failed.stderr : '').toContain("run 'make setup'");
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  });
});
