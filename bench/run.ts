// make bench: the sync's throughput, latency and Temporal cost, against a direct baseline and
// the partner's own ceiling (a plain client's update rate), all in the same run.
// Usage: npx tsx bench/run.ts [--n 1000,10000,100000,1000000] [--repeat 3] … (--help; bench/README.md)
//        npx tsx bench/run.ts --from bench/results/FILE.json   (table, markdown and PNG again)
import { readFileSync, writeFileSync } from 'node:fs';
import { runBench } from './bench.js';
import { chartSvg, renderPng } from './chart.js';
import { chartFor, formatMarkdown, formatTable } from './figures.js';
import { benchOptionsFrom, OptionError, usage } from './options.js';
import type { BenchResult } from './result.js';

const fromIndex = process.argv.indexOf('--from');
if (fromIndex > 0) {
  const jsonPath = process.argv[fromIndex + 1] ?? '';
  const result = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResult;
  const chart = chartFor(result);
  const pngPath = jsonPath.replace(/\.json$/, '.png');
  writeFileSync(pngPath, await renderPng(chartSvg(chart.heading, chart.panels)));
  process.stdout.write(`${formatTable(result)}\n\n${formatMarkdown(result)}\n\nchart: ${pngPath}\n`);
  process.exit(0);
}

let options;
try {
  options = benchOptionsFrom(process.env, process.argv.slice(2));
} catch (error) {
  if (!(error instanceof OptionError)) throw error;
  process.stderr.write(`bench: ${error.message}\n${usage}\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

const { result, jsonPath, pngPath, mdPath } = await runBench(options);
process.stdout.write(`\n${formatTable(result)}\n\n${formatMarkdown(result)}\n\n`);
process.stdout.write(`results:  ${jsonPath}\nchart:    ${pngPath}\nmarkdown: ${mdPath}\n`);
