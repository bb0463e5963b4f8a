import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Every make target must work as the first command on a fresh clone: a recipe that runs project
// code (npx, node, the stack's up/start, the chaos or bench tools) installs first.

const root = new URL('../', import.meta.url).pathname;
const makefile = readFileSync(`${root}Makefile`, 'utf8');

/** Target name -> recipe lines, in order. */
function recipes(): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of makefile.split('\n')) {
    const target = /^([a-z][a-z-]*):/.exec(line);
    if (target) result.set(target[1]!, (current = []));
    else if (line.startsWith('\t') && current) current.push(line.trim().replace(/^@/, ''));
    else if (line.trim() === '' || !line.startsWith('\t'))
      current = line.startsWith('#') ? current : undefined;
  }
  return result;
}

const runsProjectCode = (line: string) =>
  /\bnpx\b|\bnode\b|\bnpm run\b|stack\.sh (up|start|restart)\b|scripts\/demo\.sh/.test(line);
const installs = (line: string) => line.startsWith('$(INSTALL)') || /scripts\/(install|demo)\.sh/.test(line);
const delegates = (line: string) => /^\$\(MAKE\)/.test(line);

describe('Makefile', () => {
  it('installs before any recipe line that runs project code', () => {
    const all = recipes();
    expect([...all.keys()]).toEqual(
      expect.arrayContaining(['up', 'call', 'chaos', 'bench', 'report', 'lint']),
    );
    for (const [target, lines] of all) {
      const first = lines.findIndex(runsProjectCode);
      if (first === -1) continue;
      const installedBefore = lines.slice(0, first + 1).some((line) => installs(line) || delegates(line));
      expect(installedBefore, `make ${target}: "${lines[first]}" runs before any install`).toBe(true);
    }
  });

  it('delegates only to targets that install themselves', () => {
    const all = recipes();
    for (const [target, lines] of all) {
      for (const line of lines.filter(delegates)) {
        const called = /\s([a-z]+)(\s|$)/.exec(line.replace('$(MAKE) --no-print-directory', ''))?.[1];
        expect(all.has(called!), `make ${target} calls make ${called}`).toBe(true);
        expect(all.get(called!)!.some(installs), `make ${called} (called by ${target}) installs`).toBe(true);
      }
    }
  });
});
