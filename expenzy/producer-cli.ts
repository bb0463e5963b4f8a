// Usage: tsx expenzy/producer-cli.ts [--attempts N] [--concurrency C] [--sleep S]
// (defaults from GENERATION_ATTEMPTS, CONCURRENCY, SLEEP_BETWEEN_PAYOUT; see producer-options.ts).
import { pino } from 'pino';
import { producePayouts, ProducerError, type ProducerSummary } from './producer.js';
import { OptionError, producerOptionsFrom, type ProducerOptions } from './producer-options.js';
import { formatSummary, progressDisplay } from './producer-progress.js';

const logger = pino(
  { name: 'expenzy-producer', level: process.env.LOG_LEVEL ?? 'info' },
  pino.destination(2),
);

let options: ProducerOptions;
try {
  options = producerOptionsFrom(process.env, process.argv.slice(2));
} catch (error) {
  if (!(error instanceof OptionError)) throw error;
  process.stderr.write(`producer: ${error.message}\n`);
  process.exit(2);
}

// First Ctrl-C stops creating and lets queued webhooks go out; the second one quits at once.
const stop = new AbortController();
process.on('SIGINT', () => (stop.signal.aborted ? process.exit(130) : stop.abort()));
process.on('SIGTERM', () => stop.abort());

const display = progressDisplay(options.attempts);
let summary: ProducerSummary;
try {
  summary = await producePayouts(options, { signal: stop.signal, logger, onProgress: display.update });
} catch (error) {
  display.stop();
  if (!(error instanceof ProducerError)) throw error;
  process.stderr.write(`producer: ${error.message}\n${formatSummary(error.summary)}\n`);
  process.exit(1);
}
display.stop();
process.stdout.write(`${formatSummary(summary)}\n`);
process.exitCode = summary.aborted ? 130 : 0;
