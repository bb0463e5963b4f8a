// Usage: tsx tools/chaos/cli.ts [--scale full|small] [--only NAME[,NAME…]] [--json]
//                               [--json-file PATH|-] [--keep-stack] [--list]   (make chaos)
// Starts an isolated copy of the stack (temporary STACK_DIR, free ports: a `make up` is left
// alone), runs the chaos scenarios on it one after another and prints the table.
// --json writes the results to tools/chaos/results/chaos-SCALE-TIME.json (--json-file: elsewhere,
// - for stdout). Exit code: 0 every scenario passed, 1 one failed, 2 the runner itself failed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { format } from 'prettier';
import { ChaosRunner, type ScenarioResult } from './runner.js';
import type { Scale } from './scenario.js';
import { scenarioNamed, scenarios } from './scenarios/index.js';
import { formatDetails, formatTable } from './table.js';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'full' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    'json-file': { type: 'string' },
    'keep-stack': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});

const log = (line: string) =>
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
  if (values.list) {
    for (const scenario of scenarios) process.stdout.write(`${scenario.name.padEnd(24)} ${scenario.title}\n`);
    return 0;
  }
  if (values.scale !== 'full' && values.scale !== 'small') throw new Error('--scale is full or small');
  const scale: Scale = values.scale;
  const selected = values.only ? values.only.split(',').map((name) => scenarioNamed(name.trim())) : scenarios;

  const started = Date.now();
  const runner = await ChaosRunner.start({ scale, log });
  const results: ScenarioResult[] = [];
  // The services run in sessions of their own: a Ctrl-C reaches only this process, which must
  // stop them. Once: after the scenario in progress; twice: at once.
  let interrupted = false;
  const stopSoon = () => {
    if (interrupted) {
      log('stopping the stack now');
      void runner.close().finally(() => process.exit(130));
      return;
    }
    interrupted = true;
    log('interrupted: finishing this scenario, then stopping the stack (again to stop at once)');
  };
  process.on('SIGINT', stopSoon);
  process.on('SIGTERM', stopSoon);
  try {
    for (const scenario of selected) {
      if (interrupted) break;
      results.push(await runner.run(scenario));
    }
  } finally {
    const failed = results.some((result) => !result.passed);
    const keepDir = values['keep-stack'] || failed;
    if (values['keep-stack']) log(`stack left running in ${runner.stack.addresses.stackDir}`);
    else {
      await runner.close({ keepDir });
      if (keepDir)
        log(`stack stopped; its logs and databases are kept in ${runner.stack.addresses.stackDir}`);
    }
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const table = `${formatTable(results)} (${scale} scale, ${minutes} min)\n\n${formatDetails(results)}\n`;
  if (values.json || values['json-file']) {
    const path = values['json-file'] ?? defaultJsonPath(scale);
    const json = await format(JSON.stringify({ scale, minutes: Number(minutes), results }), {
      parser: 'json',
    });
    if (path === '-') {
      process.stderr.write(table);
      process.stdout.write(json);
    } else {
      process.stdout.write(table);
      writeFileSync(path, json);
      log(`results written to ${path}`);
    }
  } else process.stdout.write(table);
  return results.length === selected.length && results.every((result) => result.passed) ? 0 : 1;
}

function defaultJsonPath(scale: Scale): string {
  const dir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return `${dir}chaos-${scale}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
}

process.exitCode = await main().catch((error: Error) => {
  process.stderr.write(`chaos: ${error.stack ?? error.message}\n`);
  return 2;
});
