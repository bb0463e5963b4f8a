import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that each run a whole stack of processes for minutes (soak, chaos, bench), longest
 * first. They start before the others, which fill the workers around them: on a clean clone
 * vitest knows no timings yet and would start them last, ordered by file size.
 */
const stackFiles = [
  'test/chaos-attempts.test.ts',
  'test/chaos-processes.test.ts',
  'test/chaos-workflows.test.ts',
  'test/soak-seed-81.test.ts',
  'test/soak-seed-179.test.ts',
  'test/chaos-partner.test.ts',
  'test/bench.test.ts',
];

for (const file of stackFiles) {
  if (!existsSync(file)) throw new Error(`vitest.config.ts names ${file}, which does not exist`);
}

class StackFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = stackFiles.findIndex((name) => file.moduleId.endsWith(name));
      return at < 0 ? stackFiles.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

// Tests talk to a real PostgreSQL and a real Temporal dev server, both started (when not
// already running) by test/global-setup.ts; each test file gets its own databases. Three files
// at once on two cores: the stack files spend most of their time waiting on timeouts.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-runtime.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 3,
    sequence: { sequencer: StackFilesFirst },
  },
});
