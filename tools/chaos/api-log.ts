import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { percentilesMs } from '../report/index.js';

/**
 * The Holvi API's own answer times, read from its log (a `request completed` line with `ms` for
 * every request at level info): what the API spent on each webhook, without the queueing in the
 * load tool's process.
 */
export class ApiLogWindow {
  private readonly from: number;

  constructor(private readonly file: string) {
    this.from = size(file);
  }

  /** The webhooks answered since the window opened; null when none were logged (LOG_LEVEL above info). */
  webhookAnswers(): WebhookAnswers | null {
    const micros: number[] = [];
    let slow = 0;
    let failed = 0;
    for (const line of readFrom(this.file, this.from).split('\n')) {
      if (!line.includes('"request completed"')) continue;
      let entry: { path?: string; ms?: number; status?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a line cut by the read
      }
      if (!entry.path?.startsWith('/expenzy/webhook') || typeof entry.ms !== 'number') continue;
      micros.push(Math.round(entry.ms * 1000));
      if (entry.ms >= 1000) slow++;
      if (entry.status !== 200) failed++;
    }
    const percentiles = percentilesMs(micros);
    if (!percentiles) return null;
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      count: percentiles.count,
      p50: round(percentiles.p50),
      p99: round(percentiles.p99),
      max: round(percentiles.max),
      slow,
      failed,
    };
  }
}

export interface WebhookAnswers {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Answered in a second or more. */
  slow: number;
  /** Answered other than 200 (503: Temporal did not take the signal in time). */
  failed: number;
}

export function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function readFrom(file: string, offset: number): string {
  const length = size(file) - offset;
  if (length <= 0) return '';
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}
