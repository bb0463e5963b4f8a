import { randomIntBetween, type Random } from './random.js';

/** 1.00 to 99.99, drawn as whole cents and written out, as the stock producer makes them. */
export function randomAmount(random: Random): string {
  const cents = randomIntBetween(random, 100, 9999);
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** A Finnish-IBAN-looking account: FI and 16 digits, 18 characters. */
export function randomRecipient(random: Random): string {
  const digits = Array.from({ length: 16 }, () => randomIntBetween(random, 0, 9));
  return `FI${digits.join('')}`;
}
