import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { prebuiltBundlePath, workflowsPath } from '../src/worker/create-worker.js';

/**
 * `npm run build`: the production build in dist/, which the image runs (no tsx, no webpack at
 * start-up):
 *   dist/src, dist/expenzy, dist/config, dist/tools   tsc -p tsconfig.build.json
 *   dist/workflow-bundle.js    bundleWorkflowCode over src/workflows, loaded by the worker and the
 *                              replayer through `workflowBundle`
 *   dist/migrations            the SQL files, for the migrate step and the version check
 */
const root = new URL('../', import.meta.url).pathname;
const dist = `${root}dist`;

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };
const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet });
// The bundle is found relative to the compiled create-worker.js, so write it where that looks.
const target = prebuiltBundlePath.replace(`${root}`, `${dist}/`);
mkdirSync(dist, { recursive: true });
writeFileSync(target, code);
cpSync(`${root}migrations`, `${dist}/migrations`, { recursive: true });
console.log(`built ${dist}: compiled sources, ${target} (${Math.round(code.length / 1024)} KiB), migrations`);
