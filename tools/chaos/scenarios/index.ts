import type { Scenario } from '../scenario.js';
import { markTimeoutLiveWorker, refusedBatch, stalledFetch } from './attempt-windows.js';
import { everythingAtOnce } from './everything.js';
import { malformedPayouts } from './malformed.js';
import { failAfterCommit, partnerFailures, partnerOutageAndLatency } from './partner.js';
import { postgresRestart, temporalRestart, workerKills } from './processes.js';
import { resetLastTask, secondWorkflow, terminateMidSend } from './sync-windows.js';
import { lostWebhooks, webhookFlood } from './webhooks.js';

/**
 * The first issue's scenarios 1–10, in its order, then issue 10's exactly-once windows (each
 * fails wherever its window is open).
 */
export const scenarios: Scenario[] = [
  partnerFailures,
  failAfterCommit,
  workerKills,
  temporalRestart,
  postgresRestart,
  partnerOutageAndLatency,
  lostWebhooks,
  webhookFlood,
  malformedPayouts,
  everythingAtOnce,
  secondWorkflow,
  terminateMidSend,
  resetLastTask,
  markTimeoutLiveWorker,
  stalledFetch,
  refusedBatch,
];

export function scenarioNamed(name: string): Scenario {
  const found = scenarios.find((scenario) => scenario.name === name);
  if (!found)
    throw new Error(`unknown scenario "${name}" (one of: ${scenarios.map((s) => s.name).join(', ')})`);
  return found;
}
