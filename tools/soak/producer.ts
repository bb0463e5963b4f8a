import { setTimeout as sleep } from 'node:timers/promises';
import { producePayouts, ProducerError, type ProducerSummary } from '../../expenzy/producer.js';
import { defaultProducerOptions } from '../../expenzy/producer-options.js';

/**
 * Expenzy's producer (expenzy/producer.ts) run for as long as the soak lasts, at a steady rate,
 * until stopped. Webhooks can be dropped for a while (the soak's webhooks-dropped windows).
 * Creation fails while the simulator's database restarts: the producer is started again, as the
 * partner's own system would carry on.
 */

export interface SteadyProducerOptions {
  expenzyUrl: string;
  apiUrl: string;
  /** Payouts created per second (one after another, this far apart). */
  ratePerSecond: number;
  /** Webhooks in flight at once. */
  concurrency: number;
  log?: (line: string) => void;
}

export interface ProducerTotals {
  created: number;
  webhooksSent: number;
  webhooksFailed: number;
  webhooksDropped: number;
  /** Times creation failed and the producer was started again. */
  creationFailures: number;
}

/** Far more than any run makes: the producer runs until its signal stops it. */
const UNBOUNDED = 1_000_000_000;
/** A partner's webhook sender gives up on a hanging receiver after a while, as the producer's CLI does. */
const WEBHOOK_TIMEOUT_MS = 10_000;
const RESTART_PAUSE_MS = 250;

export class SteadyProducer {
  private readonly totals: ProducerTotals = {
    created: 0,
    webhooksSent: 0,
    webhooksFailed: 0,
    webhooksDropped: 0,
    creationFailures: 0,
  };
  private inRun = 0;
  private dropShare = 0;
  private readonly stopping = new AbortController();
  private readonly running: Promise<void>;

  constructor(private readonly options: SteadyProducerOptions) {
    this.running = this.run();
    this.running.catch(() => undefined); // awaited by stop(); no unhandled rejection meanwhile
  }

  /** Payouts created so far. */
  created(): number {
    return this.totals.created + this.inRun;
  }

  /** From now on this share of the webhooks is not sent (0: every one is). */
  dropWebhooks(share: number): void {
    this.dropShare = share;
  }

  /** Stops creating; resolves once every webhook already queued was sent or failed. */
  async stop(): Promise<ProducerTotals> {
    this.stopping.abort();
    await this.running;
    return { ...this.totals };
  }

  private add(summary: ProducerSummary): void {
    this.totals.created += summary.payoutsCreated;
    this.totals.webhooksSent += summary.webhooksSent;
    this.totals.webhooksFailed += summary.webhooksFailed;
    this.totals.webhooksDropped += summary.webhooksDropped;
    this.inRun = 0;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        const summary = await producePayouts(
          {
            ...defaultProducerOptions,
            attempts: UNBOUNDED,
            concurrency: this.options.concurrency,
            sleepBetweenPayouts: 1 / this.options.ratePerSecond,
            // The producer drops a webhook when its random draw is below this rate: the draw
            // below says whether the current window drops this one.
            webhookDropRate: 1,
            expenzyBaseUrl: this.options.expenzyUrl,
            holviBaseUrl: this.options.apiUrl,
            webhookTimeoutMs: WEBHOOK_TIMEOUT_MS,
          },
          {
            signal,
            random: () => (Math.random() < this.dropShare ? 0 : 1),
            onProgress: (progress) => (this.inRun = progress.payoutsCreated),
          },
        );
        this.add(summary);
      } catch (error) {
        if (!(error instanceof ProducerError)) throw error;
        this.add(error.summary);
        this.totals.creationFailures++;
        if (this.totals.creationFailures % 20 === 1)
          this.options.log?.(`producer: ${error.message} (started again)`);
        await sleep(RESTART_PAUSE_MS);
      }
    }
  }
}
