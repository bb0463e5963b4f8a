import type { ActionOutcome, SoakResult } from './runner.js';
import { actionKinds, describeAction } from './schedule.js';

/** What a soak run prints at its end, and its row in tools/chaos/README.md's table of long runs. */

/** Passed: the run completed and no invariant was violated. */
export const passed = (result: SoakResult) => result.error === undefined && result.violations.length === 0;

const seconds = (milliseconds: number | undefined) =>
  milliseconds === undefined ? '-' : `${(milliseconds / 1000).toFixed(1)} s`;

const count = (outcomes: ActionOutcome[], result: ActionOutcome['result']) =>
  outcomes.filter((outcome) => outcome.result === result).length;

/** "31 of 33 applied (2 skipped)": the faults the stack really met. */
export function faultFigures(result: SoakResult): string {
  const { outcomes } = result;
  const others = (['skipped', 'failed', 'not run'] as const)
    .map((kind) => [kind, count(outcomes, kind)] as const)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  return `${count(outcomes, 'done')} of ${outcomes.length} applied${others.length ? ` (${others.join(', ')})` : ''}`;
}

export function formatSummary(result: SoakResult): string {
  const verdict = result.error
    ? 'ERROR (the runner failed; the run says nothing)'
    : passed(result)
      ? 'PASS: no invariant violated'
      : `FAIL: ${result.violations.length} violation${result.violations.length === 1 ? '' : 's'}`;
  const lines = [`soak seed ${result.seed}, ${result.minutes} min of faults: ${verdict}`];
  const production = result.production;
  if (production)
    lines.push(
      `  producer: ${production.created} payouts; webhooks ${production.webhooksSent} answered, ` +
        `${production.webhooksFailed} failed, ${production.webhooksDropped} dropped; ` +
        `creation restarted ${production.creationFailures}x`,
    );
  if (result.flooded > 0)
    lines.push(`  floods: ${result.flooded} payouts written at the partner at once, without webhooks`);
  if (result.payouts)
    lines.push(
      `  at the end: ${result.payouts.atPartner} payouts at the partner, ${result.payouts.recorded} recorded, ` +
        `${result.payouts.malformed} malformed`,
    );
  lines.push(
    `  drain: ${result.drain.drained ? 'drained' : 'NOT drained'} in ${result.drain.seconds} s` +
      (result.drain.why && !result.drain.drained ? ` (${result.drain.why})` : ''),
  );
  lines.push(
    `  invariants checked ${result.invariantRounds.checked}x during the run` +
      (result.invariantRounds.unreadable
        ? ` (${result.invariantRounds.unreadable} more rounds found a database restarting)`
        : ''),
  );
  lines.push(`  faults: ${faultFigures(result)}; by kind:`);
  const byKind = actionKinds
    .map((kind) => {
      const ofKind = result.outcomes.filter((outcome) => outcome.action.kind === kind);
      const done = count(ofKind, 'done');
      return ofKind.length ? `${kind} ${done}${done < ofKind.length ? `/${ofKind.length}` : ''}` : null;
    })
    .filter((entry): entry is string => entry !== null);
  lines.push(`    ${byKind.join(', ')}`);
  lines.push('  actions (planned, started, ended):');
  for (const outcome of result.outcomes) {
    const { action } = outcome;
    lines.push(
      `    #${String(action.n).padEnd(4)} ${seconds(action.atMs).padStart(8)} ${seconds(outcome.startedMs).padStart(8)} ` +
        `${seconds(outcome.endedMs).padStart(8)}  ${outcome.result.padEnd(7)} ${action.kind}: ${describeAction(action)}` +
        (outcome.detail ? ` (${outcome.detail})` : ''),
    );
  }
  if (result.violations.length) {
    lines.push('  VIOLATIONS:');
    for (const violation of result.violations)
      lines.push(
        `    ${violation.invariant} ${violation.subject}: ${violation.detail} ` +
          `(first seen ${seconds(violation.atMs)} after the faults began, ${violation.phase})`,
      );
  }
  if (result.error) lines.push(`  ERROR ${result.error.split('\n').slice(0, 6).join('\n        ')}`);
  return lines.join('\n');
}

/** The run's row of tools/chaos/README.md's table: seed, minutes, payouts, faults, violations. */
export function tableRow(result: SoakResult): string {
  const payouts = result.payouts?.atPartner ?? result.production?.created ?? 0;
  const violations = result.error ? 'runner error' : String(result.violations.length);
  return `| ${result.seed} | ${result.minutes} | ${payouts} | ${faultFigures(result)} | ${violations} |`;
}
