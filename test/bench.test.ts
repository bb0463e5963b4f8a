import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { caseSpecs, runBench, summarise, type BenchResult } from '../bench/bench.js';
import type { RunResult } from '../bench/cases.js';
import { chartSvg, niceStep, renderPng } from '../bench/chart.js';
import { chartFor, formatMarkdown, formatTable } from '../bench/figures.js';
import { benchOptionsFrom, OptionError, type BenchOptions } from '../bench/options.js';
import { cdf, cumulative, median, medianFigures, percentiles, ratio, slope } from '../bench/stats.js';
import { evaluateTargets } from '../bench/targets.js';
import { createExpenzyDatabase, createHolviDatabase, type TestDatabase } from './support/databases.js';
import { freePort } from './support/free-port.js';

// The bench's pure parts, then the whole harness at a tiny size (200 payouts, 3-second streams,
// one repetition) on a stack of its own: fresh databases on the suite's PostgreSQL, the suite's
// Temporal server, and the simulator, worker and API started by scripts/stack.sh on free ports.

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** The worker also listens on its metrics port + 1000 (the SDK's exporter): both must be free. */
async function freeMetricsPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 < 65_536 && (await canBind(port + 1000))) return port;
  }
}

describe('bench: pure parts', () => {
  it('takes percentiles as the report does, medians, ratios and slopes', () => {
    const p = percentiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(p).toMatchObject({ count: 10, p50: 5.5, max: 10 });
    expect(p!.p99).toBeCloseTo(9.91, 5);
    expect(percentiles([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(medianFigures([{ a: 1, b: null }, { a: 3, b: null }, { a: 2 }])).toEqual({ a: 2, b: null });
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(slope([[0, 1]])).toBe(0);
  });

  it('cuts distributions and curves down for the chart', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const points = cdf(values);
    expect(points[0]).toEqual([0, 0]);
    expect(points[points.length - 1]).toEqual([999, 1]);
    expect(points.length).toBeLessThanOrEqual(121);
    const curve = cumulative(values, 10);
    expect(curve[0]).toEqual([0, 0]);
    expect(curve[curve.length - 1]).toEqual([999, 1000]);
    expect(niceStep(97)).toBe(20);
    expect(niceStep(0)).toBe(1);
  });

  it('reads options from flags over the environment', () => {
    const options = benchOptionsFrom({ N: '100000', BENCH_REPEAT: '5' }, [
      '--repeat',
      '3',
      '--cases',
      'drain',
    ]);
    expect(options).toMatchObject({ sizes: [100_000], repeat: 3, cases: ['drain'], label: 'n100000' });
    const sizes = benchOptionsFrom({}, ['--n', '10000,100000', '--port-base', '40000']) as BenchOptions;
    expect(sizes.sizes).toEqual([10_000, 100_000]);
    expect(sizes.ports).toMatchObject({ pg: 40_000, workerMetrics: 40_005 });
    expect(caseSpecs(sizes).map((spec) => spec.id)).toEqual([
      'drain-10000',
      'drain-100000',
      'stream-50',
      'stream-max',
    ]);
    expect(benchOptionsFrom({}, ['--help'])).toBe('help');
    expect(() => benchOptionsFrom({}, ['--cases', 'soak'])).toThrow(OptionError);
    expect(() => benchOptionsFrom({ N: '0' }, [])).toThrow(OptionError);
  });

  it('summarises runs into medians, ratios and targets, as a table and a PNG', async () => {
    const options = benchOptionsFrom({}, ['--cases', 'drain,stream-50']) as BenchOptions;
    const [drain, stream] = caseSpecs(options);
    const run = (
      spec: typeof drain,
      pipeline: 'temporal' | 'direct',
      figures: RunResult['figures'],
    ): RunResult => ({
      case: spec!.id,
      pipeline,
      repetition: 1,
      figures,
      cpuSeconds: { worker: 1 },
      consistent: true,
      failedChecks: [],
      loadAverage: { before: [0, 0, 0], after: [0, 0, 0] },
      curves: {
        confirmed: [
          [0, 0],
          [1000, 10],
        ],
        toProcessingCdf: [
          [10, 0],
          [100, 1],
        ],
        backlog: [
          [0, 0],
          [1, 2],
        ],
      },
    });
    const drainResult = summarise(
      drain!,
      [
        run(drain, 'temporal', { drainSeconds: 12, historyEventsPerPayout: 0.05, peakRssMiB: 400 }),
        run(drain, 'temporal', { drainSeconds: 14, historyEventsPerPayout: 0.05, peakRssMiB: 410 }),
        run(drain, 'direct', { drainSeconds: 10, peakRssMiB: 200 }),
      ],
      ['temporal', 'direct'],
    );
    expect(drainResult.median.temporal!.drainSeconds).toBe(13);
    expect(drainResult.ratios.drainSeconds).toBeCloseTo(1.3);
    const streamResult = summarise(
      stream!,
      [run(stream, 'temporal', { toRecordedP99Ms: 600, toProcessingP99Ms: 900, backlogAtEnd: 0 })],
      ['temporal', 'direct'],
    );
    const result = {
      startedAt: '2026-11-26T10:00:00.000Z',
      machine: { nproc: 2, cpuModel: 'x', memoryGiB: 24, node: 'v20', loadAverage: [1, 1, 1], uptime: '' },
      loadAverageAtEnd: [1, 1, 1],
      options: { repeat: 2, streamSeconds: 60 },
      settings: { failureRate: 0.05, fetchBatchSize: 500, maxParallelCalls: 16, seed: 42 },
      cases: [drainResult, streamResult],
      targets: [],
    } as unknown as BenchResult;
    const targets = evaluateTargets(result);
    const verdict = (text: string) => targets.find((t) => t.target.includes(text))?.met;
    expect(verdict('within 1.5×')).toBe(true);
    expect(verdict('history events per payout')).toBe(true);
    expect(verdict('p99 create→recorded')).toBe(false);
    expect(verdict('p99 create→processing')).toBe(true);
    result.targets = targets;
    const table = formatTable(result);
    expect(table).toContain('drain time (s)');
    expect(table).toContain('1.30×');
    expect(table).toContain('[MISS] stream 50/s: p99 create→recorded');
    expect(formatMarkdown(result)).toContain('| drain 10000 | drain time (s) | 13.00 | 10.00 | 1.30× |');
    const chart = chartFor(result);
    expect(chart.panels.map((panel) => panel.title)).toEqual([
      'Drain of 10000 payouts (one webhook)',
      'stream 50/s: end-to-end latency distribution',
      'Backlog during the streams',
    ]);
    const svg = chartSvg(chart.heading, chart.panels);
    expect(svg).toMatch(/^<svg /);
    const png = await renderPng(svg);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('bench: the harness end to end at a tiny size', () => {
  let holvi: TestDatabase;
  let expenzy: TestDatabase;
  let dir: string;
  let result: BenchResult;
  let jsonPath: string;
  let pngPath: string;

  beforeAll(async () => {
    holvi = await createHolviDatabase();
    expenzy = await createExpenzyDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    const options: BenchOptions = {
      sizes: [200],
      repeat: 1,
      streamSeconds: 3,
      cases: ['drain', 'stream-50'],
      pipelines: ['temporal', 'direct'],
      warmup: 20,
      seed: 7,
      failureRate: 0.05,
      outDir: join(dir, 'results'),
      stackDir: join(dir, 'stack'),
      ports: {
        pg: 0,
        temporal: 0,
        temporalUi: 0,
        expenzy: await freePort(),
        api: await freePort(),
        workerMetrics: await freeMetricsPort(),
      },
      keepStack: false,
      timeoutSeconds: 60,
      label: 'test',
      databases: { holviOwnerUrl: holvi.ownerUrl, holviAppUrl: holvi.appUrl, expenzyUrl: expenzy.ownerUrl },
      temporalAddress: inject('temporalAddress'),
      taskQueue: `bench-test-${process.pid}-${Date.now()}`,
    };
    ({ result, jsonPath, pngPath } = await runBench(options, () => undefined));
  }, 180_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await holvi?.drop();
    await expenzy?.drop();
  });

  it('writes the JSON with every figure, for both pipelines, and the PNG', () => {
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toMatchObject({ tool: 'expenzy-sync bench' });
    expect(readFileSync(pngPath).subarray(1, 4).toString()).toBe('PNG');
    expect(result.cases.map((c) => c.id)).toEqual(['drain-200', 'stream-50']);
    expect(result.cases.every((c) => c.consistent)).toBe(true);
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.settings).toMatchObject({ failureRate: 0.05, seed: 7, fetchBatchSize: 500 });
  });

  it('measures the drain on both pipelines, with the Temporal cost from the server', () => {
    const drain = result.cases[0]!;
    for (const pipeline of ['temporal', 'direct'] as const) {
      const figures = drain.median[pipeline]!;
      expect(figures.payouts).toBe(200);
      expect(figures.drainSeconds).toBeGreaterThan(0);
      expect(figures.payoutsPerSecond).toBeCloseTo(200 / figures.drainSeconds!, 5);
      expect(figures.peakRssMiB).toBeGreaterThan(20);
      expect(figures.passes).toBeGreaterThanOrEqual(1);
      expect(figures.maxUpdateCount).toBe(1);
    }
    const t = drain.median.temporal!;
    expect(t.signalsPerWebhook).toBe(1);
    expect(t.historyEventsPerPayout).toBeGreaterThan(0);
    expect(t.historyEventsPerPayout).toBeLessThan(1);
    expect(t.activitiesPerPayout).toBeGreaterThan(0);
    expect(t.continueAsNew).toBe(0);
    expect(drain.ratios.drainSeconds).toBeGreaterThan(0);
    expect(drain.cpuSeconds.temporal!.worker).toBeGreaterThan(0);
    expect(drain.runs[0]!.curves.confirmed!.at(-1)![1]).toBe(200);
  });

  it('measures the stream: latencies in order, backlog, ratio of p99', () => {
    const stream = result.cases[1]!;
    for (const pipeline of ['temporal', 'direct'] as const) {
      const f = stream.median[pipeline]!;
      expect(f.payouts).toBeGreaterThan(10);
      expect(f.creationRatePerSecond).toBeGreaterThan(3);
      expect(f.toRecordedP50Ms).toBeGreaterThan(0);
      expect(f.toRecordedP50Ms!).toBeLessThanOrEqual(f.toRecordedP99Ms!);
      expect(f.toRecordedP99Ms!).toBeLessThanOrEqual(f.toRecordedMaxMs!);
      expect(f.toProcessingP99Ms!).toBeGreaterThanOrEqual(f.toRecordedP99Ms! - 1e-6);
      expect(f.backlogAtEnd).toBeGreaterThanOrEqual(0);
    }
    expect(stream.ratios.toProcessingP99Ms).toBeGreaterThan(0);
    expect(result.targets.some((t) => t.target.startsWith('stream 50/s: p99 create→recorded'))).toBe(true);
    expect(existsSync(pngPath)).toBe(true);
  });
});
