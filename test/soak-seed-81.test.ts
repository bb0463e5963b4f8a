import { describe, it } from 'vitest';
import { expectClean, useSoakStack } from './support/soak-suite.js';

// A minute of seed 81's faults on a stack of this file's own (support/soak-suite.ts). The two
// seeds' files were chosen for the faults their first minute holds between them.
const { soak } = useSoakStack(0);

describe('soak: seed 81, one minute', () => {
  it(
    'second worker, stray sync, API kill, worker stall and kill, Temporal restart, terminate',
    async () => {
      expectClean(await soak(81));
    },
    9 * 60_000,
  );
});
