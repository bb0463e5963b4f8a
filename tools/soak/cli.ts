// Usage: tsx tools/soak/cli.ts [--seed S] [--minutes M] [--rate N] [--print-schedule]
//                              [--json-file PATH] [--keep-stack] [--port-base P --pg-port Q]   (make soak)
// A seeded random schedule of faults over an isolated copy of the stack (tools/stack's driver)
// under a steady producer, with the invariants checked throughout and at the end
// (tools/chaos/README.md, "Soak"). The same seed replays the same schedule; without one a seed is
// drawn and printed. The environment's SOAK_SEED, SOAK_MINUTES, SOAK_PORT_BASE and SOAK_PG_PORT
// stand for the flags. Exit code: 0 no invariant violated, 1 violations (listed), 2 the runner
// itself failed or an option is bad.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomSeed } from '../../expenzy/random.js';
import { ChaosRunner } from '../chaos/runner.js';
import { runSoak, type SoakResult } from './runner.js';
import { buildSchedule, formatSchedule, MAX_SEED } from './schedule.js';
import { formatSummary, passed, tableRow } from './summary.js';

class OptionError extends Error {}

const options = {
  seed: { type: 'string' },
  minutes: { type: 'string' },
  rate: { type: 'string' },
  'print-schedule': { type: 'boolean', default: false },
  'json-file': { type: 'string' },
  'keep-stack': { type: 'boolean', default: false },
  'port-base': { type: 'string' },
  'pg-port': { type: 'string' },
} as const;

function parseFlags() {
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    throw new OptionError((error as Error).message);
  }
}
type Flags = ReturnType<typeof parseFlags>;

/** A flag, else its variable, else the fallback; an empty value counts as unset (`make soak seed=`). */
function option(
  values: Flags,
  flag: keyof Flags,
  variable: string | null,
): [name: string, raw: string] | null {
  const fromFlag = values[flag];
  if (typeof fromFlag === 'string' && fromFlag.trim() !== '') return [`--${flag}`, fromFlag.trim()];
  const fromEnv = variable === null ? undefined : process.env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return [variable!, fromEnv.trim()];
  return null;
}

function wholeNumber(given: [string, string] | null, min: number, max: number): number | null {
  if (given === null) return null;
  const [name, raw] = given;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new OptionError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

function positive(given: [string, string] | null, max: number): number | null {
  if (given === null) return null;
  const [name, raw] = given;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > max)
    throw new OptionError(`${name} must be a number above 0 and at most ${max}, got "${raw}"`);
  return Number(raw);
}

const log = (line: string) =>
  process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  const values = parseFlags();
  const seed = wholeNumber(option(values, 'seed', 'SOAK_SEED'), 0, MAX_SEED) ?? randomSeed();
  const minutes = positive(option(values, 'minutes', 'SOAK_MINUTES'), 24 * 60) ?? 2;
  const rate = positive(option(values, 'rate', null), 100) ?? undefined;
  const portBase = wholeNumber(option(values, 'port-base', 'SOAK_PORT_BASE'), 1024, 60_000);
  const pgPort = wholeNumber(option(values, 'pg-port', 'SOAK_PG_PORT'), 1024, 65_535);
  if ((portBase === null) !== (pgPort === null))
    throw new OptionError('--port-base and --pg-port (SOAK_PORT_BASE, SOAK_PG_PORT) go together');

  const schedule = buildSchedule({ seed, minutes });
  process.stdout.write(
    `${formatSchedule(schedule)}\n  (replay: make soak seed=${seed} minutes=${minutes})\n\n`,
  );
  if (values['print-schedule']) return 0;

  const chaos = await ChaosRunner.start({
    scale: 'small',
    log,
    ...(portBase !== null && pgPort !== null ? { portBand: { base: portBase, postgres: pgPort } } : {}),
  });
  // The services run in sessions of their own: a Ctrl-C reaches only this process, which must
  // stop them.
  const stop = () => {
    log('interrupted: stopping the stack');
    void chaos.close({ keepDir: true }).finally(() => process.exit(130));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  let result: SoakResult | undefined;
  try {
    result = await runSoak({ chaos, schedule, ...(rate ? { ratePerSecond: rate } : {}), log });
  } finally {
    const keepDir = values['keep-stack'] || result === undefined || !passed(result);
    if (values['keep-stack']) {
      await chaos.clients.close().catch(() => undefined);
      log(`stack left running in ${chaos.stack.addresses.stackDir}`);
    } else {
      await chaos.close({ keepDir });
      if (keepDir) log(`stack stopped; its logs and databases are kept in ${chaos.stack.addresses.stackDir}`);
    }
  }

  process.stdout.write(`${formatSummary(result)}\n\ntools/chaos/README.md row:\n${tableRow(result)}\n`);
  if (values['json-file']) {
    writeFileSync(values['json-file'], `${JSON.stringify(result, null, 2)}\n`);
    log(`result written to ${values['json-file']}`);
  }
  if (result.error) return 2;
  return passed(result) ? 0 : 1;
}

process.exitCode = await main().catch((error: Error) => {
  process.stderr.write(
    `soak: ${error instanceof OptionError ? error.message : (error.stack ?? error.message)}\n`,
  );
  return 2;
});
