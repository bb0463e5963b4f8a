import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from '../scenario.js';

/** Scenarios 1, 2 and 6: the partner fails, before or after applying, or is down or slow. */

export const partnerFailures: Scenario = {
  name: 'partner-failures',
  title: 'Partner answers 500 to half the updates and a fifth of the list calls',
  async inject({ faults, produce, sizes }) {
    await faults.setKnobs({ failureRate: 0.5, listFailureRate: 0.2 });
    await produce({ count: sizes.payouts }).done;
  },
  async verify({ check, figures }, report) {
    check('partner 500s were seen', Number(figures.partnerUnavailable ?? 1) > 0);
    check('max update count 1', report.updates.max <= 1, `max update count ${report.updates.max}`);
  },
};

export const failAfterCommit: Scenario = {
  name: 'fail-after-commit',
  title: 'Partner applies a fifth of the updates, then answers 500 (the answer is lost)',
  allowRepeatedUpdates: true,
  async inject({ faults, produce, sizes }) {
    await faults.setKnobs({ failAfterCommitRate: 0.2 });
    await produce({ count: sizes.payouts }).done;
  },
  async verify({ figures }, report) {
    // Counted and reported, not failed: the partner gives no other way to learn the outcome.
    figures.updatesBeyondOne = report.updates.beyondOne;
    figures.payoutsUpdatedTwice = report.updates.repeated.count;
  },
};

export const partnerOutageAndLatency: Scenario = {
  name: 'partner-outage-latency',
  title: 'Partner down (503 to every call) while payouts come, then 1–3 s per call',
  async inject(context) {
    const { faults, produce, sizes, figures, check, workerCounter } = context;
    const unavailableBefore = (await workerCounter('expenzy_partner_calls_total', { status: '503' })) ?? 0;
    const first = produce({ count: sizes.payouts / 2 });
    await first.reached(sizes.payouts / 20);
    await faults.outage(sizes.outageSeconds);
    await Promise.all([sleep(sizes.outageSeconds * 1000), first.done]);
    const afterOutage = await context.converge();
    figures.outageConvergeSeconds = Math.round(afterOutage.elapsedMs / 100) / 10;
    check('converged after the outage', afterOutage.converged, afterOutage.lastError);
    const unavailableAfter = (await workerCounter('expenzy_partner_calls_total', { status: '503' })) ?? 0;
    figures.partner503s = unavailableAfter - unavailableBefore;
    check('the sync met the outage (503s)', unavailableAfter > unavailableBefore);

    // Left on while the runner waits for convergence: the sync must finish under latency.
    await faults.setKnobs({ latencyMs: '1000-3000' });
    await produce({ count: sizes.latencyPayouts }).done;
  },
  async verify({ check }, report) {
    check('max update count 1', report.updates.max <= 1, `max update count ${report.updates.max}`);
  },
};
