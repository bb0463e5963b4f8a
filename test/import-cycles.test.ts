import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm';
import { afterAll, describe, expect, it } from 'vitest';

// No import cycle anywhere in the repository: two modules that need each other are one module
// in two files, and the order they load in decides what each sees. dpdm resolves imports as tsc
// does (tsconfig.json: `./x.js` is x.ts) and counts type-only imports too: a cycle of types is
// still two modules that need each other.

const root = new URL('../', import.meta.url).pathname;

/** The repository's own code: every TypeScript and JavaScript file git tracks or would track. */
function ownFiles(): string[] {
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.ts', '*.js', '*.mjs', '*.cjs'],
    { cwd: root, encoding: 'utf8' },
  );
  return [...new Set(listed.split('\n').filter(Boolean))].filter((file) => existsSync(join(root, file)));
}

async function dependencies(context: string, files: string[]): Promise<DependencyTree> {
  return parseDependencyTree(files, {
    cwd: context,
    context,
    tsconfig: join(context, 'tsconfig.json'),
    transform: false, // keep type-only imports
    skipDynamicImports: false,
  });
}

/** Imports of a file of ours that dpdm could not resolve: a cycle through them would go unseen. */
const unresolvedLocal = (tree: DependencyTree) =>
  Object.values(tree)
    .flatMap((imports) => imports ?? [])
    .filter((dependency) => dependency.request.startsWith('.') && dependency.id === null)
    .map((dependency) => `${dependency.issuer} imports ${dependency.request}`);

describe('import cycles', () => {
  const fixture = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('are found, through type-only imports too', async () => {
    writeFileSync(
      join(fixture, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    );
    writeFileSync(join(fixture, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(fixture, 'a.ts'), "import { b } from './b.js';\nexport const a = () => b;\n");
    writeFileSync(
      join(fixture, 'b.ts'),
      "import type { a } from './a.js';\nexport const b: typeof a | null = null;\n",
    );
    writeFileSync(join(fixture, 'c.ts'), "import { a } from './a.js';\nexport const c = a;\n");
    const tree = await dependencies(fixture, ['a.ts', 'b.ts', 'c.ts']);
    expect(parseCircular(tree)).toEqual([['a.ts', 'b.ts']]);
  });

  it('are none in the repository', async () => {
    const files = ownFiles();
    expect(files).toEqual(
      expect.arrayContaining(['src/config.ts', 'bench/bench.ts', 'test/import-cycles.test.ts']),
    );
    const tree = await dependencies(root, files);
    // The graph is the real one: imports resolved, across folders as well.
    expect(unresolvedLocal(tree)).toEqual([]);
    expect(tree['bench/bench.ts']?.map((dependency) => dependency.id)).toEqual(
      expect.arrayContaining(['bench/cases.ts', 'tools/stack/stack.ts', 'src/config.ts']),
    );
    expect(parseCircular(tree).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });
});
