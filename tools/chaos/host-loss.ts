import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * A host that vanishes without closing its sockets (power loss, a partition), simulated on the
 * loopback: DROP rules for each TCP connection of a process, in both directions, before it is
 * SIGKILLed, so its kernel's FIN or RST never reaches the peers (PostgreSQL, Temporal, the
 * partner) and their ends stay half-open until their own timeouts or keepalives give up.
 * Every rule matches one connection exactly (-i lo, both addresses, both ports) and carries a
 * comment tag, so that no other traffic is touched and whatever is left can be found and
 * deleted. Needs iptables and ss, as root.
 */

export interface Endpoint {
  address: string;
  port: number;
}

/** One TCP connection of the process, from its side. */
export interface Connection {
  local: Endpoint;
  peer: Endpoint;
}

const isLoopbackV4 = (address: string) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);

function endpoint(text: string): Endpoint | null {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port <= 0) return null;
  return { address: text.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

/**
 * The connections of `pids` in `ss -tnpH` output: those between two IPv4 loopback addresses
 * (the rules' scope) and, counted apart, any other (IPv6, another interface), left alone.
 */
export function parseConnections(
  ssOutput: string,
  pids: ReadonlySet<number>,
): { loopback: Connection[]; other: number } {
  const loopback: Connection[] = [];
  let other = 0;
  for (const line of ssOutput.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || fields[0] === 'LISTEN') continue;
    const owners = [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
    if (!owners.some((pid) => pids.has(pid))) continue;
    const local = endpoint(fields[3]!);
    const peer = endpoint(fields[4]!);
    if (local && peer && isLoopbackV4(local.address) && isLoopbackV4(peer.address))
      loopback.push({ local, peer });
    else other++;
  }
  return { loopback, other };
}

/**
 * The rule specifications (iptables' arguments after the chain) that drop `connections` both
 * ways: on the loopback every packet passes INPUT on lo, so one chain sees both directions.
 */
export function dropRules(connections: Connection[], tag: string): string[][] {
  const rule = (from: Endpoint, to: Endpoint) => [
    '-i',
    'lo',
    '-p',
    'tcp',
    '-s',
    from.address,
    '--sport',
    String(from.port),
    '-d',
    to.address,
    '--dport',
    String(to.port),
    '-m',
    'comment',
    '--comment',
    tag,
    '-j',
    'DROP',
  ];
  const rules = new Map<string, string[]>();
  for (const { local, peer } of connections)
    for (const spec of [rule(local, peer), rule(peer, local)]) rules.set(spec.join(' '), spec);
  return [...rules.values()];
}

/**
 * The rules of `iptables -S INPUT` output whose comment is `tag`, as specifications to delete
 * them by (the listing's `-A INPUT` and its quotes dropped).
 */
export function taggedRules(listing: string, tag: string): string[][] {
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[0] === '-A' && words[1] === 'INPUT')
    .filter((words) => {
      const at = words.indexOf('--comment');
      return at >= 0 && words[at + 1]?.replace(/^"|"$/g, '') === tag;
    })
    .map((words) => words.slice(2).map((word) => word.replace(/^"(.*)"$/, '$1')));
}

const run = promisify(execFile);

/** Null when iptables and ss can be used here; else why not, in one line. */
export async function hostLossUnavailable(): Promise<string | null> {
  for (const [tool, args, install] of [
    ['iptables', ['-w', '-S', 'INPUT'], 'iptables'],
    ['ss', ['-tnH'], 'iproute2'],
  ] as const) {
    try {
      await run(tool, [...args]);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      return code === 'ENOENT'
        ? `${tool} is not installed (bash scripts/install.sh --soak installs ${install}, as root)`
        : `${tool} cannot be used here (root needed): ${message.split('\n')[0]}`;
    }
  }
  return null;
}

/** The processes of a process group (a service's, as stack.sh starts it): its leader's and its children's. */
export function processGroup(leader: number): Set<number> {
  const members = new Set([leader]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After the command's name in parentheses: state, parent, process group.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === leader) members.add(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return members;
}

/** The TCP connections of a process group, as `ss` shows them now. */
export async function connectionsOf(leader: number): Promise<ReturnType<typeof parseConnections>> {
  const { stdout } = await run('ss', ['-tnpH'], { maxBuffer: 16 * 1024 * 1024 });
  return parseConnections(stdout, processGroup(leader));
}

/**
 * The rules one run inserted, under one tag. Each is deleted by its specification; `removeAll`
 * also deletes any rule the listing still shows with the tag. Until none is left, the process's
 * exit deletes them too (an interrupted run), synchronously.
 */
export class LoopbackCuts {
  private readonly inserted = new Map<string, string[]>();
  private closed = false;
  private readonly onExit = () => this.removeAllNow();

  constructor(readonly tag: string) {}

  /** Inserts DROP rules for `connections`; returns the rules, for `remove`. */
  async cut(connections: Connection[]): Promise<string[][]> {
    if (this.closed) throw new Error('the loopback cuts were removed for good: no new one');
    const rules = dropRules(connections, this.tag);
    if (rules.length > 0 && this.inserted.size === 0) process.on('exit', this.onExit);
    for (const spec of rules) {
      this.inserted.set(spec.join(' '), spec);
      await run('iptables', ['-w', '-I', 'INPUT', ...spec]);
    }
    return rules;
  }

  /** Deletes `rules` (those still in place). */
  async remove(rules: string[][]): Promise<void> {
    for (const spec of rules) {
      const key = spec.join(' ');
      if (!this.inserted.delete(key)) continue;
      await run('iptables', ['-w', '-D', 'INPUT', ...spec]).catch(() => undefined);
    }
    if (this.inserted.size === 0) process.off('exit', this.onExit);
  }

  /** Deletes every rule of the tag; no cut is made afterwards. */
  async removeAll(): Promise<void> {
    this.closed = true;
    await this.remove([...this.inserted.values()]);
    const { stdout } = await run('iptables', ['-w', '-S', 'INPUT']).catch(() => ({ stdout: '' }));
    for (const spec of taggedRules(stdout, this.tag))
      await run('iptables', ['-w', '-D', 'INPUT', ...spec]).catch(() => undefined);
  }

  private removeAllNow(): void {
    for (const spec of this.inserted.values()) {
      try {
        execFileSync('iptables', ['-w', '-D', 'INPUT', ...spec], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    this.inserted.clear();
  }
}
