import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../src/worker/create-worker.js';

/**
 * Replays workflow histories (exported with `temporal workflow show --output json`) against
 * the current workflow code. A change that would break running workflows fails here with a
 * determinism error, before it is deployed.
 *
 *   npx tsx tools/replay.ts history.json [more.json | a-folder-of-histories ...]
 */
export async function replayFiles(paths: string[]): Promise<{ file: string; error?: string }[]> {
  const results = [];
  for (const file of await expand(paths)) {
    try {
      const history = historyFromJSON(JSON.parse(await readFile(file, 'utf8')));
      await Worker.runReplayHistory({ workflowsPath }, history);
      results.push({ file });
    } catch (error) {
      results.push({
        file,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }
  return results;
}

async function expand(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
      files.push(...names.map((name) => join(path, name)));
    } else {
      files.push(path);
    }
  }
  return files;
}

async function main(): Promise<number> {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    console.error(
      'usage: npx tsx tools/replay.ts HISTORY.json [...]  (export one with: temporal workflow show --workflow-id expenzy-sync --output json > HISTORY.json)',
    );
    return 2;
  }
  const results = await replayFiles(paths);
  for (const result of results)
    console.log(
      `${result.error ? 'FAIL' : 'ok  '}  ${result.file}${result.error ? `\n      ${result.error}` : ''}`,
    );
  const failed = results.filter((result) => result.error).length;
  console.log(`${results.length - failed} replayed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
