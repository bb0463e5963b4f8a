import { ApiLogWindow } from '../api-log.js';
import { RECONCILE_INTERVAL_SECONDS } from '../sizes.js';
import type { Scenario } from '../scenario.js';

/** Scenarios 7 and 8: webhooks lost, and webhooks by the ten thousand. */

export const lostWebhooks: Scenario = {
  name: 'lost-webhooks',
  title: 'Holvi API down while payouts are made: only the reconciliation pass can find them',
  async inject({ faults, produce, sizes, onCleanup }) {
    // Started again only after the final report: convergence must come from reconciliation.
    onCleanup(await faults.stopApi());
    await produce({ count: sizes.payouts }).done;
  },
  async verify({ check, figures }, _report, convergence) {
    figures.reconcileIntervalSeconds = RECONCILE_INTERVAL_SECONDS;
    check('every webhook lost', figures.webhooksSent === 0, `${figures.webhooksSent} webhooks answered`);
    const bound = 2 * RECONCILE_INTERVAL_SECONDS + 20;
    check(
      `picked up by reconciliation within ${bound}s`,
      convergence.elapsedMs / 1000 <= bound,
      `${(convergence.elapsedMs / 1000).toFixed(1)}s`,
    );
  },
};

export const webhookFlood: Scenario = {
  name: 'webhook-flood',
  title: 'Webhook flood from a load tool while payouts flow',
  async inject({ faults, produce, sizes, figures, apiCounter, clients, stack }) {
    figures.apiWebhooksBefore = (await apiCounter('holvi_webhooks_received_total')) ?? 0;
    figures.apiSignalsBefore = (await apiCounter('holvi_sync_signals_sent_total', { result: 'ok' })) ?? 0;
    figures.workflowSignalsBefore = (await clients.syncStatus())?.signals ?? 0;
    const signalSeconds = () =>
      Promise.all(['sum', 'count'].map((part) => apiCounter(`holvi_sync_signal_duration_seconds_${part}`)));
    const [sumBefore, countBefore] = await signalSeconds();
    const production = produce({ count: sizes.payouts, sleepSeconds: Math.max(sizes.sleepSeconds, 0.02) });
    await production.reached(sizes.payouts * 0.1);
    const apiLog = new ApiLogWindow(stack.logFile('api'));
    const flood = await faults.flood(sizes.floodAmount, sizes.floodConnections);
    const served = apiLog.webhookAnswers();
    if (served) {
      figures.apiLoggedP50Ms = served.p50;
      figures.apiLoggedP99Ms = served.p99;
      figures.apiLoggedMaxMs = served.max;
    }
    figures.floodRequests = flood.requests;
    figures.floodNon2xx = flood.non2xx;
    figures.floodErrors = flood.errors;
    figures.floodP50Ms = flood.latencyMs.p50;
    figures.floodP99Ms = flood.latencyMs.p99;
    figures.floodMaxMs = flood.latencyMs.max;
    figures.floodSeconds = flood.durationSeconds;
    // The floor under a webhook's answer: it waits for a signal sent after it arrived.
    const [sumAfter, countAfter] = await signalSeconds();
    if (
      sumBefore != null &&
      countBefore != null &&
      sumAfter != null &&
      countAfter != null &&
      countAfter > countBefore
    )
      figures.signalMeanMs = Math.round(((sumAfter - sumBefore) / (countAfter - countBefore)) * 10_000) / 10;
    await production.done;
  },
  async verify({ check, sizes, figures, apiCounter, clients }) {
    const webhooks =
      ((await apiCounter('holvi_webhooks_received_total')) ?? NaN) - Number(figures.apiWebhooksBefore);
    const signals =
      ((await apiCounter('holvi_sync_signals_sent_total', { result: 'ok' })) ?? NaN) -
      Number(figures.apiSignalsBefore);
    const received = ((await clients.syncStatus())?.signals ?? NaN) - Number(figures.workflowSignalsBefore);
    for (const key of ['apiWebhooksBefore', 'apiSignalsBefore', 'workflowSignalsBefore']) delete figures[key];
    figures.webhooks = webhooks;
    figures.signalsSent = signals;
    figures.signalsReceivedByWorkflow = received;
    // The API's own answer time (its log), else the load tool's, which adds its own queueing.
    const logged = figures.apiLoggedP99Ms !== undefined;
    const p99 = Number(logged ? figures.apiLoggedP99Ms : figures.floodP99Ms);
    check(
      `API p99 answer < ${sizes.floodP99LimitMs} ms under the flood`,
      p99 < sizes.floodP99LimitMs,
      `p99 ${p99} ms (${logged ? 'API log' : 'load tool'}); load tool p99 ${figures.floodP99Ms} ms`,
    );
    check(
      'every flood call answered 2xx',
      figures.floodNon2xx === 0 && figures.floodErrors === 0,
      `${figures.floodNon2xx} non-2xx, ${figures.floodErrors} errors`,
    );
    check(
      'signals far below webhooks (< 10%)',
      signals >= 1 && signals * 10 < webhooks,
      `${signals} signals for ${webhooks} webhooks`,
    );
  },
};
