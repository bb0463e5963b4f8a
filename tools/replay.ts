import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config.js';
import { workflowSource } from '../src/worker/create-worker.js';

/**
 * Replays workflow histories (exported with `temporal workflow show --output json`) against
 * the current workflow code. A change that would break running workflows fails here with a
 * determinism error, before it is deployed.
 *
 *   npx tsx tools/replay.ts history.json [more.json | a-folder-of-histories ...]
 *   npx tsx tools/replay.ts --workflow-id expenzy-sync [--run-id RUN]
 *       fetches the history from Temporal, connected as the services are (TEMPORAL_ADDRESS,
 *       TEMPORAL_PROFILE, TLS, API key: src/temporal/connection.ts)
 */
export async function replayFiles(paths: string[]): Promise<{ file: string; error?: string }[]> {
  const results = [];
  for (const file of await expand(paths)) {
    try {
      const history = historyFromJSON(JSON.parse(await readFile(file, 'utf8')));
      await Worker.runReplayHistory(workflowSource(), history);
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

/** Replays one run's history, fetched from Temporal with the services' connection settings. */
export async function replayFromServer(
  workflowId: string,
  runId?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ file: string; error?: string }> {
  const config = loadConfig(env);
  const connection = await Connection.connect(config.temporal.connectionOptions);
  const file = `${config.TEMPORAL_NAMESPACE}/${workflowId}${runId ? `/${runId}` : ''}`;
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    await Worker.runReplayHistory(workflowSource(), history, workflowId);
    return { file };
  } catch (error) {
    return { file, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    await connection.close();
  }
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
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at === -1 ? undefined : args.splice(at, 2)[1];
  };
  const workflowId = option('--workflow-id');
  const runId = option('--run-id');
  if ((workflowId === undefined) === (args.length === 0)) {
    console.error(
      'usage: npx tsx tools/replay.ts HISTORY.json [...]  (export one with: temporal workflow show --workflow-id expenzy-sync --output json > HISTORY.json)\n' +
        '       npx tsx tools/replay.ts --workflow-id expenzy-sync [--run-id RUN]  (fetched from Temporal: TEMPORAL_ADDRESS, TEMPORAL_PROFILE, …)',
    );
    return 2;
  }
  const results = workflowId ? [await replayFromServer(workflowId, runId)] : await replayFiles(args);
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
