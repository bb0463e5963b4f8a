import { describe, it } from 'vitest';
import { expectClean, useSoakStack } from './support/soak-suite.js';

// A minute of seed 179's faults on a stack of this file's own (support/soak-suite.ts). The two
// seeds' files were chosen for the faults their first minute holds between them.
const { soak } = useSoakStack(100);

describe('soak: seed 179, one minute', () => {
  it(
    'PostgreSQL restart, outage, API stall, worker stall past the heartbeat timeout, fail-after-commit, malformed',
    async () => {
      expectClean(await soak(179));
    },
    9 * 60_000,
  );
});
