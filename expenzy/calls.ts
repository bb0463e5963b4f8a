/**
 * How many calls the public API answered since the simulator started, per operation, and how
 * many of them it failed (any 5xx: injected 500s, outage 503s). In memory only: a restart starts
 * over. Read with `GET /admin/calls`; a measurement takes the difference of two readings.
 */
export const callOperations = ['list', 'update', 'count'] as const;
export type CallOperation = (typeof callOperations)[number];

export type CallCountsView = Record<CallOperation, { calls: number; failed: number }>;

export class CallCounts {
  readonly #counts: CallCountsView = {
    list: { calls: 0, failed: 0 },
    update: { calls: 0, failed: 0 },
    count: { calls: 0, failed: 0 },
  };

  add(operation: CallOperation, statusCode: number): void {
    const counts = this.#counts[operation];
    counts.calls++;
    if (statusCode >= 500) counts.failed++;
  }

  view(): CallCountsView {
    return {
      list: { ...this.#counts.list },
      update: { ...this.#counts.update },
      count: { ...this.#counts.count },
    };
  }
}
