import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import type { Payout } from '../partner/payout-parser.js';

/** A listed payout PostgreSQL once refused to record: kept in holvi_rejected_payout under rawSha256. */
export interface RefusedBefore {
  expenzyUuid: string;
  rawSha256: string;
  reason: string;
}

/**
 * A pass's valid payouts, staged in holvi_pass_payout as the list streams, through one COPY:
 * PostgreSQL takes them as fast as the partner lists them (a million in seconds), where batched
 * INSERTs would fall behind. Rows become visible together when `finish()` commits the COPY; a
 * list that fails leaves nothing (`abort()`), and its retry is a new pass anyway.
 * seq is the position in the partner's list. An id listed twice is staged twice: the stage keeps
 * no unique key (COPY has no ON CONFLICT), so only its first seq is ever claimed for sending
 * (claimForMarking) and recording skips the repeat (ON CONFLICT on the payout).
 */
export class PayoutStage {
  private released = false;

  private constructor(
    private readonly client: pg.PoolClient,
    private readonly copy: CopyStreamQuery,
    private readonly done: Promise<void>,
  ) {}

  static async open(pool: pg.Pool): Promise<PayoutStage> {
    const client = await pool.connect();
    try {
      const copy = client.query(
        copyFrom(
          `COPY holvi_pass_payout (pass_id, seq, expenzy_uuid, create_time, amount, recipient_account_identifier)
           FROM STDIN`,
        ),
      );
      const done = finished(copy);
      done.catch(() => undefined); // awaited by finish(); abort() discards it
      return new PayoutStage(client, copy, done);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  /**
   * Stages one batch from `firstSeq` on, in list order, but for the payouts PostgreSQL refused
   * to record before: those are returned, for the caller to stage as malformed.
   */
  async write(db: pg.Pool, passId: number, firstSeq: number, payouts: Payout[]): Promise<RefusedBefore[]> {
    if (payouts.length === 0) return [];
    const refused = await refusedBefore(
      db,
      payouts.map((payout) => payout.expenzyId),
    );
    const skip = new Set(refused.map((refusal) => refusal.expenzyUuid));
    let text = '';
    payouts.forEach((payout, index) => {
      if (skip.has(payout.expenzyId.toLowerCase())) return;
      text += `${passId}\t${firstSeq + index}\t${copyText(payout.expenzyId)}\t${copyText(payout.createTime)}\t${copyText(payout.amount)}\t${copyText(payout.recipient)}\n`;
    });
    if (text.length > 0 && !this.copy.write(text)) await once(this.copy, 'drain');
    return refused;
  }

  /** Commits every row written. */
  async finish(): Promise<void> {
    try {
      this.copy.end();
      await this.done;
      this.release();
    } catch (error) {
      this.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  /** Stages nothing: the COPY is abandoned and its connection closed (a no-op once finished). */
  abort(reason: Error): void {
    if (this.released) return;
    this.copy.destroy(reason);
    this.release(reason);
  }

  /** The connection goes back once: closed after a failure, pooled otherwise. */
  private release(failure?: Error): void {
    if (this.released) return;
    this.released = true;
    this.client.release(failure);
  }
}

async function refusedBefore(db: pg.Pool, ids: string[]): Promise<RefusedBefore[]> {
  const { rows } = await db.query<{ expenzy_uuid: string; raw_sha256: string; reason: string }>(
    `SELECT refused_uuid::text AS expenzy_uuid, raw_sha256, reason
       FROM holvi_rejected_payout WHERE refused_uuid = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((row) => ({
    expenzyUuid: row.expenzy_uuid,
    rawSha256: row.raw_sha256,
    reason: row.reason,
  }));
}

/** A value in COPY's text format: its four special characters escaped. */
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (character) => COPY_ESCAPES[character]!);
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
