import { describe, expect, it } from 'vitest';
import { PartnerAnswerTooLargeError, PartnerUnavailableError } from '../../src/partner/errors.js';

describe('which failed calls are over at the partner', () => {
  it('its own answers are: 500 (fails before applying, or loses the answer after), 429 (refused), a 200 too large to read', () => {
    expect(new PartnerUnavailableError('partner answered 500', 500).callOver).toBe(true);
    expect(new PartnerUnavailableError('partner answered 429', 429).callOver).toBe(true);
    expect(new PartnerAnswerTooLargeError('too large', 200).callOver).toBe(true);
  });

  it("a proxy's 502, 503 or 504 is not: the partner behind it may still apply the call", () => {
    for (const status of [502, 503, 504])
      expect(new PartnerUnavailableError(`partner answered ${status}`, status).callOver).toBe(false);
  });

  it('neither is a status the partner is not known to answer, nor no answer at all', () => {
    for (const status of [501, 507, 520, 524])
      expect(new PartnerUnavailableError(`partner answered ${status}`, status).callOver).toBe(false);
    expect(new PartnerUnavailableError('update call failed: TimeoutError').callOver).toBe(false);
  });
});
