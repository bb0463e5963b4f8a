import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultPorts } from '../config/ports.js';
import { alertRules, dashboard, kitExpressions, metricNamesIn } from './support/ops.js';

// The operations kit: Prometheus alert rules checked and unit-tested by promtool (built from the
// Prometheus module by scripts/install-promtool.sh), a Grafana dashboard that parses and queries
// only metrics the services serve. That every name exists on a running worker's and API's
// /metrics is checked in test/dist.test.ts, which runs them.

const root = new URL('../', import.meta.url).pathname;
const promtool = () =>
  execFileSync('bash', [`${root}scripts/install-promtool.sh`], { encoding: 'utf8' }).trim();

describe('ops/prometheus', () => {
  it('alerts on lag, partner failures, missing pollers, schedule-to-start latency and a down worker', () => {
    const names = alertRules().map((rule) => rule.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'ExpenzyPayoutLag',
        'ExpenzyPartnerUnavailable',
        'ExpenzySyncNoPollers',
        'ExpenzyActivityScheduleToStartHigh',
        'ExpenzySyncWorkerDown',
      ]),
    );
    for (const rule of alertRules()) expect(rule.labels?.severity, rule.alert).toMatch(/^(page|warning)$/);
  });

  it("scrapes the worker's and the API's /metrics on the stack's ports (config/ports.json)", () => {
    const config = parse(readFileSync(`${root}ops/prometheus/prometheus.yml`, 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
    );
    // Not the SDK's exporter: the worker's /metrics serves its metrics too.
    expect(targets).toEqual({
      'expenzy-sync-worker': [`127.0.0.1:${defaultPorts.workerMetrics}`],
      'expenzy-sync-api': [`127.0.0.1:${defaultPorts.api}`],
    });
  });

  it('passes promtool check rules, check config and the rules unit tests', () => {
    const bin = promtool();
    const run = (...args: string[]) =>
      execFileSync(bin, args, { cwd: `${root}ops/prometheus`, encoding: 'utf8' });
    expect(run('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
    expect(run('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
    expect(run('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  }, 900_000);
});

describe('ops/grafana', () => {
  it('is a dashboard whose panels all query our metrics', () => {
    const { uid, panels } = dashboard();
    expect(uid).toBe('expenzy-sync');
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) expect(metricNamesIn(target.expr), panel.title).not.toHaveLength(0);
    }
  });

  it('names, with the alerts, the app and SDK metrics the README documents', () => {
    const named = new Set(kitExpressions().flatMap(metricNamesIn));
    for (const name of [
      'expenzy_oldest_unrecorded_payout_age_seconds',
      'expenzy_partner_calls_total',
      'holvi_payouts_recorded_total',
      'temporal_num_pollers',
      'temporal_activity_schedule_to_start_latency_bucket',
    ]) {
      expect(named.has(name), name).toBe(true);
    }
  });
});
