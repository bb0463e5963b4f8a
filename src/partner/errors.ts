/** How a call to Expenzy went wrong; the activities map these onto Temporal retry decisions. */

/**
 * The statuses that prove a call over at the partner, nothing of it left to land there later:
 * only the partner's own answers. It fails with a 500 (before applying, or after with the answer
 * lost: either way done), refuses with a 429 before doing anything, and a 200 is its answer even
 * when too large to read. A 502, 503 or 504 usually comes from a proxy or load balancer in front
 * of it, which may have passed the call on: the partner behind may still apply it. Any other
 * status is not known to be the partner's, so it proves nothing either.
 */
const CALL_OVER_STATUSES: ReadonlySet<number> = new Set([200, 429, 500]);

/** 5xx, 429, timeout, connection failure, an oversize body: the same call may succeed later. */
export class PartnerUnavailableError extends Error {
  override name = 'PartnerUnavailableError';
  /** The partner itself answered: the call can no longer land there (else it may, like a timeout). */
  readonly callOver: boolean;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.callOver = status !== undefined && CALL_OVER_STATUSES.has(status);
  }
}

/**
 * The partner answered (`status`), but with more than Holvi reads: retryable like any
 * unavailability, yet an answer all the same. Answered 200, the call is over at the partner
 * (`callOver`), so nothing of it can land later; what it did there is unknown, since the answer
 * was not read.
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
