import pg from 'pg';
import { pgText } from './pg-text.js';

/**
 * PostgreSQL refusing a row for its values: SQLSTATE class 22 (data exception: a value out of
 * range, an impossible date, text jsonb does not take) or 23 (integrity constraint violation).
 * Retrying the statement cannot help; storing the other rows of its batch without it can.
 */
export interface RowRefusal {
  code: string;
  message: string;
}

export function rowRefusal(error: unknown): RowRefusal | null {
  if (!(error instanceof pg.DatabaseError) || typeof error.code !== 'string') return null;
  return /^2[23]/.test(error.code) ? { code: error.code, message: error.message } : null;
}

/** The refusal as a reason text for a person (storable: PostgreSQL may quote the value). */
export const refusalReason = (refusal: RowRefusal, doing: string): string =>
  pgText(`PostgreSQL refused ${doing} (SQLSTATE ${refusal.code}): ${refusal.message}`);
