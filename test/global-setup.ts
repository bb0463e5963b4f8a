import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from './support/temporal-dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}

const root = new URL('../', import.meta.url).pathname;

function postgresRunning(): boolean {
  try {
    execFileSync('bash', [`${root}scripts/postgres.sh`, 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts what the suite needs (PostgreSQL, a Temporal dev server) and stops only what it started. */
export default async function setup(project: TestProject) {
  const startedPostgres = !process.env.HOLVI_DATABASE_URL && !postgresRunning();
  if (!process.env.HOLVI_DATABASE_URL) {
    execFileSync('bash', [`${root}scripts/postgres.sh`, 'start'], { stdio: 'inherit' });
  }
  const temporal = await startTemporalDevServer();
  project.provide('temporalAddress', temporal.address);

  return async () => {
    await temporal.stop();
    if (startedPostgres) execFileSync('bash', [`${root}scripts/postgres.sh`, 'stop'], { stdio: 'inherit' });
  };
}
