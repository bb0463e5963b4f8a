import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
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
  address = `127.0.0.1:${await freePort()}`;
  env = {
    ...process.env,
    STACK_DIR: stackDir,
    STACK_SERVICES: 'temporal',
    TEMPORAL_ADDRESS: address,
    STACK_TEMPORAL_UI_PORT: String(await freePort()),
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
    expect(outcome.stdout).toContain('temporal: already running');
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

  it('down stops the whole process group', async () => {
    const outcome = await stack(['down']);
    expect(outcome.code).toBe(0);
    expect(processesOfThisStack()).toEqual([]);
    expect(existsSync(join(stackDir, 'pids/temporal.pid'))).toBe(false);
    expect((await stack(['status'])).stdout).toMatch(/temporal\s+stopped/);
  });
});
