import type pg from 'pg';
import { randomAmount, randomRecipient } from './generate.js';
import type { Random } from './random.js';

/**
 * Payouts written straight into the simulator's table, many per statement: the admin route
 * commits one row at a time, so a backlog of thousands (the bench's drains, the soak's flood)
 * would take minutes. Same columns and value ranges as the simulator's generator; no webhook.
 */

/** A v4-shaped uuid from `random`, so a seeded generator gives the same ids every run. */
function seededUuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const CHUNK = 5_000;

/** `count` payouts in `notifying`; ids, amounts and recipients drawn from `random`. */
export async function insertNotifying(pool: pg.Pool, count: number, random: Random): Promise<void> {
  for (let done = 0; done < count; done += CHUNK) {
    const size = Math.min(CHUNK, count - done);
    const ids: string[] = [];
    const amounts: string[] = [];
    const recipients: string[] = [];
    for (let i = 0; i < size; i++) {
      ids.push(seededUuid(random));
      amounts.push(randomAmount(random));
      recipients.push(randomRecipient(random));
    }
    await pool.query(
      `INSERT INTO expenzy_transaction (id, amount, recipient_account_identifier)
       SELECT * FROM unnest($1::uuid[], $2::numeric[], $3::varchar[])`,
      [ids, amounts, recipients],
    );
  }
  // Fresh statistics, as a partner's long-lived table has: right after a bulk insert into a
  // small table the planner would scan the whole table per update until autovacuum analyzes it.
  await pool.query('ANALYZE expenzy_transaction');
}
