import cliProgress from 'cli-progress';
import type { ProducerProgress, ProducerSummary } from './producer.js';

export interface ProgressDisplay {
  update(progress: ProducerProgress): void;
  stop(): void;
}

const describe = (p: ProducerProgress) =>
  `sent ${p.webhooksSent} failed ${p.webhooksFailed} dropped ${p.webhooksDropped} pending ${p.webhooksPending}`;

/** A bar on a terminal; in a log (CI, `make load | tee`) one line every two seconds instead. */
export function progressDisplay(attempts: number, out: NodeJS.WriteStream = process.stdout): ProgressDisplay {
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: out, hideCursor: true, format: 'payouts {bar} {value}/{total} | webhooks {webhooks}' },
      cliProgress.Presets.shades_classic,
    );
    bar.start(attempts, 0, { webhooks: '' });
    return {
      update: (p) => bar.update(p.payoutsCreated, { webhooks: describe(p) }),
      stop: () => bar.stop(),
    };
  }
  let latest: ProducerProgress | undefined;
  const timer = setInterval(() => {
    if (latest)
      out.write(`payouts ${latest.payoutsCreated}/${latest.attempts} | webhooks ${describe(latest)}\n`);
  }, 2_000);
  timer.unref();
  return {
    update: (p) => (latest = p),
    stop: () => clearInterval(timer),
  };
}

export function formatSummary(s: ProducerSummary): string {
  const rows: [string, string][] = [
    ['Payouts created', `${s.payoutsCreated} of ${s.attempts}${s.aborted ? ' (stopped)' : ''}`],
    ['Webhooks sent (2xx)', String(s.webhooksSent)],
    ['Webhooks failed', String(s.webhooksFailed)],
    ['Webhooks dropped on purpose', String(s.webhooksDropped)],
    ['Elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s`],
    ['Creation rate', `${s.creationRate.toFixed(1)} payouts/s`],
  ];
  return rows.map(([label, value]) => `${label.padEnd(28)} ${value}`).join('\n');
}
