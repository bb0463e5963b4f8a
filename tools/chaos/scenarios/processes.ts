import type { Scenario } from '../scenario.js';

/** Scenarios 3, 4 and 5: the processes around the sync die or restart while payouts flow. */

/** Fault `i` of `n` happens once this share of the payouts exists: spread over the run. */
const spread = (i: number, n: number) => (i + 1) / (n + 1);

export const workerKills: Scenario = {
  name: 'worker-kills',
  title: 'Worker SIGKILLed at random moments during passes, restarted each time',
  async inject({ faults, produce, sizes, figures }) {
    // Slower creation, so that every kill (and restart) lands while payouts still arrive.
    const production = produce({ count: sizes.payouts, sleepSeconds: Math.max(sizes.sleepSeconds, 0.03) });
    let duringActivity = 0;
    for (let i = 0; i < sizes.kills; i++) {
      await production.reached(sizes.payouts * spread(i, sizes.kills));
      if ((await faults.killWorker(sizes.killAim)).interrupted.length > 0) duringActivity++;
    }
    figures.kills = faults.injected.filter((fault) => fault.kind === 'worker-sigkill').length;
    figures.killsDuringActivity = duringActivity;
    await production.done;
  },
  async verify({ check, sizes, figures }, report) {
    check(`at least ${sizes.kills} kills`, Number(figures.kills) >= sizes.kills);
    check('max update count 1', report.updates.max <= 1, `max update count ${report.updates.max}`);
  },
};

export const temporalRestart: Scenario = {
  name: 'temporal-restart',
  title: 'Temporal server restarted (same --db-filename) in the middle of the run',
  async inject({ faults, produce, sizes, figures }) {
    const production = produce({ count: sizes.payouts, sleepSeconds: Math.max(sizes.sleepSeconds, 0.02) });
    for (let i = 0; i < sizes.temporalRestarts; i++) {
      await production.reached(sizes.payouts * spread(i, sizes.temporalRestarts));
      await faults.restart('temporal');
    }
    figures.temporalRestarts = sizes.temporalRestarts;
    await production.done;
  },
  async verify({ check }, report) {
    check('max update count 1', report.updates.max <= 1, `max update count ${report.updates.max}`);
  },
};

export const postgresRestart: Scenario = {
  name: 'postgres-restart',
  title: "PostgreSQL restarted in the middle of the run (Holvi's pool must recover in place)",
  async inject({ faults, produce, sizes }) {
    const production = produce({ count: sizes.payouts, sleepSeconds: Math.max(sizes.sleepSeconds, 0.02) });
    await production.reached(sizes.payouts * 0.4);
    await faults.restart('postgres');
    await production.done;
  },
  async verify({ check, clients }, report) {
    const ready = await fetch(`${clients.addresses.apiUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    check('API ready again (its pool reconnected)', ready.ok, await ready.text());
    check('max update count 1', report.updates.max <= 1, `max update count ${report.updates.max}`);
  },
};
