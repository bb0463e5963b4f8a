import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks the optional shared secret in constant time. Hashing both sides first gives equal
 * lengths, so neither the content nor the length of the expected token leaks through timing.
 */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
