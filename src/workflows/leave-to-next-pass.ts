import { ActivityFailure, log } from '@temporalio/workflow';

/**
 * A step that failed through all its attempts loses nothing: its payouts are still listed, so
 * a later pass (the next signal, or the reconciliation timer) takes them again, from a new list.
 */
export async function orLeaveToNextPass<T>(activity: Promise<T>, payouts: number): Promise<T | undefined> {
  try {
    return await activity;
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('a pass step gave up after its retries; left to a later pass', {
      payouts,
      error: error.cause?.message,
    });
    return undefined;
  }
}
