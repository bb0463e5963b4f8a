import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { caseSpecs, runBench, summarise } from '../bench/bench.js';
import type { RunResult } from '../bench/cases.js';
import { chartSvg, niceStep, renderPng } from '../bench/chart.js';
import { chartFor, formatMarkdown, formatTable } from '../bench/figures.js';
import { benchOptionsFrom, OptionError, type BenchOptions } from '../bench/options.js';
import type { BenchResult } from '../bench/result.js';
import {
  cdf,
  cumulative,
  maxFigures,
  median,
  medianFigures,
  minFigures,
  percentiles,
  ratio,
  slope,
} from '../bench/stats.js';
import { evaluateTargets } from '../bench/targets.js';
import { createExpenzyDatabase, createHolviDatabase, type TestDatabase } from './support/databases.js';

// The bench's pure parts, then the whole harness at a tiny size (200 payouts, 3-second streams,
// one repetition, the three pipelines) on a stack of its own: fresh databases on the suite's
// PostgreSQL, the suite's Temporal server, and the simulator, worker and API started by
// scripts/stack.sh on free ports. No assertion on how fast anything is: only that every figure
// exists and is sane.

describe('bench: pure parts', () => {
  it('takes percentiles as the report does, medians, ratios and slopes', () => {
    const p = percentiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(p).toMatchObject({ count: 10, p50: 5.5, max: 10 });
    expect(p!.p99).toBeCloseTo(9.91, 5);
    expect(percentiles([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(medianFigures([{ a: 1, b: null }, { a: 3, b: null }, { a: 2 }])).toEqual({ a: 2, b: null });
    expect(minFigures([{ a: 1, b: null }, { a: 3 }, { a: 2 }])).toEqual({ a: 1, b: null });
    expect(maxFigures([{ a: 1, b: null }, { a: 3 }, { a: 2 }])).toEqual({ a: 3, b: null });
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
    expect(benchOptionsFrom({}, [])).toMatchObject({
      sizes: [1_000, 10_000, 100_000, 1_000_000],
      repeat: 3,
      pipelines: ['temporal', 'direct', 'ceiling'],
      failureRate: 0.05,
      drainFailureRate: 0.05,
      ceilingN: 10_000,
    });
    expect(benchOptionsFrom({ EXPENZY_FAILURE_RATE: '0.2' }, [])).toMatchObject({
      failureRate: 0.2,
      drainFailureRate: 0.2,
    });
    expect(
      benchOptionsFrom({ EXPENZY_FAILURE_RATE: '0' }, ['--drain-failure-rate', '0.05', '--ceiling-n', '500']),
    ).toMatchObject({ failureRate: 0, drainFailureRate: 0.05, ceilingN: 500 });
    expect(() => benchOptionsFrom({}, ['--drain-failure-rate', '2'])).toThrow(OptionError);
    const sizes = benchOptionsFrom({}, ['--n', '10000,100000', '--port-base', '40000']) as BenchOptions;
    expect(sizes.sizes).toEqual([10_000, 100_000]);
    expect(sizes.ports).toMatchObject({ postgres: 40_000, workerMetrics: 40_005, workerSdkMetrics: 40_006 });
    expect(new Set(Object.values(sizes.ports!)).size).toBe(9);
    expect(benchOptionsFrom({}, [])).toMatchObject({
      ports: { workerMetrics: 15_003, workerSdkMetrics: 16_003 },
    });
    expect(caseSpecs(sizes).map((spec) => spec.id)).toEqual([
      'drain-10000',
      'drain-100000',
      'stream-50',
      'stream-max',
    ]);
    // The ceiling of a drain updates the drain's N; a stream's, --ceiling-n.
    expect(caseSpecs(sizes).map((spec) => [spec.title, spec.ceilingN, spec.failureRate])).toEqual([
      ['drain 10,000', 10_000, 0.05],
      ['drain 100,000', 100_000, 0.05],
      ['stream 50/s', 10_000, 0.05],
      ['stream max', 10_000, 0.05],
    ]);
    expect(benchOptionsFrom({}, ['--help'])).toBe('help');
    expect(() => benchOptionsFrom({}, ['--cases', 'soak'])).toThrow(OptionError);
    expect(() => benchOptionsFrom({ N: '0' }, [])).toThrow(OptionError);
  });

  it('summarises runs into medians, ranges, ratios and targets, as a table, markdown and a PNG', async () => {
    const options = benchOptionsFrom({}, ['--cases', 'drain,stream-50', '--n', '10000']) as BenchOptions;
    const [drain, stream] = caseSpecs(options);
    const run = (
      spec: typeof drain,
      pipeline: 'temporal' | 'direct' | 'ceiling',
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
        run(drain, 'temporal', {
          drainSeconds: 12,
          payoutsPerSecond: 800,
          listCalls: 3,
          historyEventsPerPayout: 0.05,
          peakRssMiB: 400,
        }),
        run(drain, 'temporal', {
          drainSeconds: 14,
          payoutsPerSecond: 700,
          listCalls: 4,
          historyEventsPerPayout: 0.05,
          peakRssMiB: 410,
        }),
        run(drain, 'direct', { drainSeconds: 10, payoutsPerSecond: 1000, peakRssMiB: 200 }),
        run(drain, 'ceiling', { drainSeconds: 8, payoutsPerSecond: 1250, listCalls: 0, updateCalls: 10_520 }),
      ],
      ['temporal', 'direct', 'ceiling'],
    );
    expect(drainResult.median.temporal!.drainSeconds).toBe(13);
    expect(drainResult.min.temporal!.drainSeconds).toBe(12);
    expect(drainResult.max.temporal!.drainSeconds).toBe(14);
    expect(drainResult.ratios.drainSeconds).toBeCloseTo(1.3);
    expect(drainResult.ofCeiling.temporal).toBeCloseTo(750 / 1250);
    expect(drainResult.ofCeiling.direct).toBeCloseTo(0.8);
    expect(drainResult.ofCeiling.ceiling).toBe(1);
    const streamResult = summarise(
      stream!,
      [run(stream, 'temporal', { toRecordedP99Ms: 600, toProcessingP99Ms: 300, backlogAtEnd: 0 })],
      ['temporal', 'direct', 'ceiling'],
    );
    expect(streamResult.ofCeiling).toEqual({ temporal: null });
    const result = {
      startedAt: '2026-11-26T10:00:00.000Z',
      machine: { nproc: 2, cpuModel: 'x', memoryGiB: 24, node: 'v20', loadAverage: [1, 1, 1], uptime: '' },
      loadAverageAtEnd: [1, 1, 1],
      options: { repeat: 2, streamSeconds: 60 },
      settings: {
        failureRate: 0.05,
        drainFailureRate: 0.05,
        fetchBatchSize: 2_000,
        maxParallelCalls: 16,
        seed: 42,
      },
      cases: [drainResult, streamResult],
      targets: [],
    } as unknown as BenchResult;
    const targets = evaluateTargets(result);
    const verdict = (text: string) => targets.find((t) => t.target.includes(text))?.met;
    expect(verdict('within 1.5×')).toBe(true);
    expect(verdict('history events per payout')).toBe(true);
    expect(verdict('throughput ÷ the ceiling')).toBe(false);
    expect(verdict('p99 create→recorded')).toBe(false);
    expect(verdict('p99 create→processing')).toBe(true);
    result.targets = targets;
    const table = formatTable(result);
    expect(table).toContain('drain time (s)');
    expect(table).toContain('1.30×');
    expect(table).toMatch(/payouts\/s ÷ the ceiling\s+0\.60\s+0\.80\s+1\.00/);
    expect(table).toContain('[MISS] stream 50/s: p99 create→recorded');
    const markdown = formatMarkdown(result);
    expect(markdown).toContain(
      '| drain 10,000 | temporal | 750 (700–800) | 0.60 | 13.00 (12.00–14.00) | 4 (3–4) |',
    );
    expect(markdown).toContain('|  | ceiling | 1250 | 1.00 | 8.00 | 0 | 10520 | – | – |');
    expect(markdown).toContain('| drain 10,000 | drain time (s) | 13.00 | 10.00 | 8.00 | 1.30× |');
    expect(markdown).toContain('**MISSED**');
    const chart = chartFor(result);
    expect(chart.panels[0]!.series.map((series) => series.label)).toContain(
      'ceiling: updates applied, no Holvi work (8.0 s)',
    );
    expect(chart.panels.map((panel) => panel.title)).toEqual([
      'Drain of 10,000 payouts (one webhook)',
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
  let mdPath: string;

  beforeAll(async () => {
    holvi = await createHolviDatabase();
    expenzy = await createExpenzyDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    const options: BenchOptions = {
      sizes: [200],
      repeat: 1,
      streamSeconds: 3,
      cases: ['drain', 'stream-50'],
      pipelines: ['temporal', 'direct', 'ceiling'],
      warmup: 20,
      seed: 7,
      failureRate: 0.05,
      drainFailureRate: 0.1,
      ceilingN: 150,
      outDir: join(dir, 'results'),
      stackDir: join(dir, 'stack'),
      keepStack: false,
      timeoutSeconds: 60,
      label: 'test',
      databases: { holviOwnerUrl: holvi.ownerUrl, holviAppUrl: holvi.appUrl, expenzyDbUrl: expenzy.ownerUrl },
      temporalAddress: inject('temporalAddress'),
      taskQueue: `bench-test-${process.pid}-${Date.now()}`,
    };
    ({ result, jsonPath, pngPath, mdPath } = await runBench(options, () => undefined));
  }, 240_000);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await holvi?.drop();
    await expenzy?.drop();
  });

  it('writes the JSON with every figure, for the three pipelines, the PNG and the markdown', () => {
    expect(JSON.parse(readFileSync(jsonPath, 'utf8'))).toMatchObject({ tool: 'expenzy-sync bench' });
    expect(readFileSync(pngPath).subarray(1, 4).toString()).toBe('PNG');
    expect(result.cases.map((c) => c.id)).toEqual(['drain-200', 'stream-50']);
    expect(result.cases.every((c) => c.consistent)).toBe(true);
    expect(result.failures).toEqual([]);
    expect(result.machine.nproc).toBeGreaterThan(0);
    expect(result.settings).toMatchObject({
      failureRate: 0.05,
      drainFailureRate: 0.1,
      seed: 7,
      fetchBatchSize: 2_000,
      maxParallelCalls: 16,
      ceilingParallelCalls: 16,
    });
    const markdown = readFileSync(mdPath, 'utf8');
    expect(markdown).toContain('| drain 200 | temporal |');
    expect(markdown).toContain('|  | ceiling |');
    expect(markdown).toContain('| stream 50/s | temporal |');
  });

  it('measures the ceiling: every payout updated once by a plain client, no list call', () => {
    for (const [c, n] of [
      [result.cases[0]!, 200],
      [result.cases[1]!, 150],
    ] as const) {
      const ceiling = c.median.ceiling!;
      expect(ceiling.payouts).toBe(n);
      expect(ceiling.payoutsPerSecond).toBeCloseTo(n / ceiling.drainSeconds!, 5);
      expect(ceiling.parallelCalls).toBe(16);
      expect(ceiling.listCalls).toBe(0);
      expect(ceiling.updateCalls).toBe(n + ceiling.updateCallsFailed!);
      expect(ceiling.maxUpdateCount).toBe(1);
      expect(c.ofCeiling.ceiling).toBe(1);
      expect(c.runs.find((run) => run.pipeline === 'ceiling')!.curves.confirmed!.at(-1)![1]).toBe(n);
      for (const pipeline of ['temporal', 'direct'] as const) {
        expect(c.ofCeiling[pipeline]).toBeGreaterThan(0);
        expect(c.ofCeiling[pipeline]).toBeCloseTo(
          c.median[pipeline]!.payoutsPerSecond! / ceiling.payoutsPerSecond!,
        );
      }
    }
  });

  it('measures the drain on both pipelines, with the Temporal cost from the server', () => {
    const drain = result.cases[0]!;
    for (const pipeline of ['temporal', 'direct'] as const) {
      const figures = drain.median[pipeline]!;
      expect(figures.payouts).toBe(200);
      expect(figures.drainSeconds).toBeGreaterThan(0);
      expect(figures.payoutsPerSecond).toBeCloseTo(200 / figures.drainSeconds!, 5);
      expect(figures.peakRssMiB).toBeGreaterThan(20);
      expect(figures.peakRssMiB).toBeGreaterThanOrEqual(figures.startRssMiB! - 1);
      expect(figures.passes).toBeGreaterThanOrEqual(1);
      expect(figures.maxUpdateCount).toBe(1);
      // Counted by the simulator: at least one list, at least one update per payout, and the 500s.
      expect(figures.listCalls).toBeGreaterThanOrEqual(1);
      expect(figures.updateCalls).toBeGreaterThanOrEqual(200);
      expect(figures.updateCallsFailed).toBeGreaterThanOrEqual(0);
      expect(figures.updateCallsFailed).toBeLessThan(figures.updateCalls!);
      const { min, max } = drain;
      expect(min[pipeline]!.drainSeconds).toBeLessThanOrEqual(figures.drainSeconds!);
      expect(max[pipeline]!.drainSeconds).toBeGreaterThanOrEqual(figures.drainSeconds!);
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
      expect(f.creationRatePerSecond).toBeGreaterThan(0);
      expect(f.payoutsPerSecond).toBeGreaterThan(0);
      expect(f.listCalls).toBeGreaterThanOrEqual(1);
      expect(f.updateCalls).toBeGreaterThanOrEqual(f.payouts!);
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
