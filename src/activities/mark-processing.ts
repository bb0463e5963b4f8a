import { ApplicationFailure, activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import type { UpdateOutcome } from '../partner/expenzy-client.js';
import { listedIds } from '../partner/payout-parser.js';
import { PartnerUnavailableError } from '../partner/errors.js';
import type { MarkResult } from '../shared.js';
import type { ActivityDependencies } from './dependencies.js';

/**
 * MarkProcessing: sets `processing` at Expenzy for payouts committed in Holvi's table and not
 * yet confirmed, then records the partner's confirmation in our row.
 * Absorbs: the partner's random 500s and timeouts. Every payout of the batch is tried; those
 * that failed transiently are left to the next pass (they are still `notifying`, so its fetch
 * lists them again) while the rest of the sync moves on. Only when nothing got through — the
 * partner is down — does the activity fail, so the retry policy's backoff spares the partner.
 * Idempotent: rows already confirmed are skipped; a retry first asks the partner which payouts
 * are still `notifying`, so an update whose answer was lost (500 after commit, timeout) is
 * recorded instead of being sent twice (a later pass does the same in settle-confirmed.ts).
 */
export function createMarkProcessing(deps: ActivityDependencies) {
  const { pool, expenzy, metrics } = deps;

  return async function MarkProcessing(expenzyIds: string[]): Promise<MarkResult> {
    const result: MarkResult = { marked: 0, alreadyProcessing: 0, skipped: 0, retryLater: 0, failed: [] };
    heartbeat();
    let pending = await unconfirmed(pool, expenzyIds);
    result.skipped = expenzyIds.length - pending.length;

    if (activityInfo().attempt > 1 && pending.length > 0) {
      const { stillNotifying, alreadyApplied } = await askPartner(deps, pending);
      heartbeat();
      await confirm(pool, alreadyApplied);
      result.alreadyProcessing = alreadyApplied.length;
      pending = stillNotifying;
    }

    // A cancelled attempt (heartbeat timed out, its retry may be running) sends nothing more.
    const cancelled = cancellationSignal();
    let transient = 0;
    const applied: string[] = [];
    await Promise.all(
      pending.map(async (id) => {
        let outcome: UpdateOutcome;
        try {
          outcome = await expenzy.updateState(id, 'processing', cancelled);
        } catch (error) {
          if (error instanceof PartnerUnavailableError || cancelled.aborted) return void transient++;
          const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          log.error('partner refused to set processing', { expenzyId: id, reason });
          return void result.failed.push({ expenzyId: id, reason });
        } finally {
          heartbeat();
        }
        if (outcome.applied) {
          applied.push(id);
        } else {
          // `[]` is documented only for an unknown id, yet the id was just listed. The row stays
          // unconfirmed: the next pass tries again while it is listed as `notifying`, or settles it
          // once it is not (see settle-confirmed.ts).
          const reason = 'partner answered [] (not applied)';
          log.warn(reason, { expenzyId: id });
          result.failed.push({ expenzyId: id, reason });
        }
      }),
    );
    // One round trip for the batch. Should it fail, the retry asks the partner first, and a
    // later fetch settles what the partner applied: nothing is sent twice.
    await confirm(pool, applied);
    result.marked = applied.length;
    metrics?.payoutsMarked.inc(result.marked + result.alreadyProcessing);

    if (transient > 0 && transient === pending.length) {
      throw ApplicationFailure.retryable(`all ${transient} updates failed transiently`, 'PartnerUnavailable');
    }
    result.retryLater = transient;
    log.info('marked payouts processing', { ...result, failed: result.failed.length });
    return result;
  };
}

async function unconfirmed(pool: ActivityDependencies['pool'], ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ expenzy_uuid: string }>(
    `SELECT expenzy_uuid FROM holvi_received_payout
      WHERE expenzy_uuid = ANY($1::uuid[]) AND processing_confirmed_at IS NULL`,
    [ids],
  );
  return rows.map((row) => row.expenzy_uuid);
}

async function confirm(pool: ActivityDependencies['pool'], ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE holvi_received_payout SET processing_confirmed_at = clock_timestamp()
      WHERE expenzy_uuid = ANY($1::uuid[]) AND processing_confirmed_at IS NULL`,
    [ids],
  );
}

/** On a retry: which of our payouts are still `notifying` at the partner, and which it already moved. */
async function askPartner({ expenzy }: ActivityDependencies, ids: string[]) {
  const [notifying, inError] = await Promise.all([
    expenzy.listTransactions('notifying'),
    expenzy.listTransactions('error'),
  ]);
  const stillListed = listedIds(notifying);
  const errored = listedIds(inError);
  const stillNotifying = ids.filter((id) => stillListed.has(id));
  const alreadyApplied = ids.filter((id) => !stillListed.has(id) && !errored.has(id));
  const unknownOrError = ids.filter((id) => !stillListed.has(id) && errored.has(id));
  if (unknownOrError.length > 0)
    log.error('payouts in state error at the partner', { expenzyIds: unknownOrError });
  if (alreadyApplied.length > 0)
    log.warn('partner had already applied these updates', { expenzyIds: alreadyApplied });
  return { stillNotifying, alreadyApplied };
}
