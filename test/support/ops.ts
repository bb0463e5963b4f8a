import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// The operations kit (ops/): the metric names its alert rules and dashboard query, and the names
// a /metrics page serves, so that a test can check the first against the second.

const root = new URL('../../', import.meta.url).pathname;

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

export const alertRules = (): AlertRule[] =>
  (
    parse(readFileSync(`${root}ops/prometheus/alerts.yml`, 'utf8')) as { groups: { rules: AlertRule[] }[] }
  ).groups.flatMap((group) => group.rules);

export interface DashboardPanel {
  id: number;
  title: string;
  targets: { expr: string }[];
}

export const dashboard = (): { uid: string; panels: DashboardPanel[] } =>
  JSON.parse(readFileSync(`${root}ops/grafana/expenzy-sync.json`, 'utf8'));

/** Every PromQL expression of the kit. */
export const kitExpressions = (): string[] => [
  ...alertRules().map((rule) => rule.expr),
  ...dashboard().panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
];

/** Our metrics named in an expression (Prometheus' own `up` aside): they all start with these prefixes. */
export const metricNamesIn = (expr: string): string[] => [
  ...new Set(expr.match(/\b(?:holvi|expenzy|temporal|process|nodejs)_[a-z0-9_]+\b/g) ?? []),
];

/** The metric names a /metrics page declares (# TYPE) or serves samples of. */
export function servedMetricNames(page: string): Set<string> {
  const names = new Set<string>();
  for (const line of page.split('\n')) {
    const declared = /^# TYPE (\S+) /.exec(line);
    if (declared) names.add(declared[1]!);
    else if (/^[a-z]/.test(line)) names.add(line.split(/[{ ]/)[0]!);
  }
  return names;
}
