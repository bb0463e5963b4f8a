import type { Scenario } from '../scenario.js';

/**
 * Scenario 10: every fault at once while thousands of payouts are made — a failing, slow
 * partner that sometimes loses its answers, lost webhooks, two worker kills, a Temporal restart
 * and a PostgreSQL restart spread over the run, and (beyond the list) an API SIGKILL,
 * which loses the signals of webhooks it had already acknowledged.
 */
export const everythingAtOnce: Scenario = {
  name: 'everything',
  title: 'All faults at once',
  allowRepeatedUpdates: true,
  async inject({ faults, produce, sizes, figures }) {
    await faults.setKnobs({
      failureRate: 0.3,
      failAfterCommitRate: 0.05,
      latencyMs: sizes.everythingLatencyMs,
    });
    const count = sizes.everythingPayouts;
    const production = produce({ count, webhookDropRate: 0.1 });
    const plan: [share: number, inject: () => Promise<unknown>][] = [
      [0.15, () => faults.killWorker(sizes.killAim)],
      [0.3, () => faults.restart('temporal')],
      [0.5, () => faults.restart('postgres')],
      [0.7, () => faults.killWorker(sizes.killAim)],
      [0.85, () => faults.killApi()],
    ];
    for (const [share, inject] of plan) {
      await production.reached(count * share);
      await inject();
    }
    figures.faultsInjected = faults.injected.length;
    await production.done;
  },
  async verify({ check, faults, figures }, report) {
    const kinds = faults.injected.map((fault) => fault.kind);
    check('two worker kills', kinds.filter((kind) => kind === 'worker-sigkill').length === 2);
    check('one Temporal restart', kinds.includes('temporal-restart'));
    check('one PostgreSQL restart', kinds.includes('postgres-restart'));
    check('one API kill', kinds.includes('api-sigkill'));
    check(
      'about 10% of webhooks lost',
      Number(figures.webhooksDropped) > 0,
      `${figures.webhooksDropped} dropped`,
    );
    figures.updatesBeyondOne = report.updates.beyondOne;
  },
};
