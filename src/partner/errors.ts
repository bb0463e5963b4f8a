/** How a call to Expenzy went wrong; the activities map these onto Temporal retry decisions. */

/** 5xx, 429, timeout, connection failure, an oversize body: the same call may succeed later. */
export class PartnerUnavailableError extends Error {
  override name = 'PartnerUnavailableError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The partner answered (`status`), but with more than Holvi reads: retryable like any
 * unavailability, yet an answer all the same. The call is over at the partner, so nothing of it
 * can land later; what it did there is unknown, since the answer was not read.
 */
export class PartnerAnswerTooLargeError extends PartnerUnavailableError {
  override name = 'PartnerAnswerTooLargeError';
  constructor(
    message: string,
    override readonly status: number,
  ) {
    super(message, status);
  }
}

/** The partner answered, but not in the documented shape. */
export class PartnerResponseError extends Error {
  override name = 'PartnerResponseError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The partner refused the request itself (404 for a state it does not accept). Retrying repeats it. */
export class PartnerRejectedRequestError extends Error {
  override name = 'PartnerRejectedRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
