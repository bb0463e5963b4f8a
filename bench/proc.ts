import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem, release } from 'node:os';
import { execFileSync } from 'node:child_process';

/** Linux /proc readers: memory peaks and CPU time of the stack's processes, and the machine. */

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readStatus(pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

const kib = (value: string | undefined) => (value ? Number(value.split(/\s+/)[0]) : 0);

export interface MemoryReading {
  rssMiB: number;
  /** VmHWM: the peak resident set since start, or since the last resetPeak. */
  peakMiB: number;
}

export function memoryOf(pid: number): MemoryReading {
  const status = readStatus(pid);
  return { rssMiB: kib(status.VmRSS) / 1024, peakMiB: kib(status.VmHWM) / 1024 };
}

/**
 * Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux ≥ 4.0, needs the process's
 * owner or root), so a case's peak excludes start-up (the workflow bundler) and warm-up.
 * Returns false when the kernel refused: the peak then counts from the process start.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples RSS every `intervalMs` (a cross-check of VmHWM); stop() returns the largest seen. */
export function sampleRss(pid: number, intervalMs = 200): { stop(): number } {
  let max = 0;
  const take = () => {
    try {
      max = Math.max(max, memoryOf(pid).rssMiB);
    } catch {
      // the process is gone; keep what was seen
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return max;
    },
  };
}

/** utime + stime of one process, in seconds (fields 14 and 15 of /proc/PID/stat). */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** Pids whose parent is `pid` (PostgreSQL's backends are children of the postmaster). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/**
 * CPU seconds per named component between two snapshots. A component is a set of pids found
 * at snapshot time (so PostgreSQL backends that come and go are counted while they live).
 */
export type Components = Record<string, () => number[]>;

export function cpuSnapshot(components: Components): Map<string, Map<number, number>> {
  const snapshot = new Map<string, Map<number, number>>();
  for (const [name, pids] of Object.entries(components)) {
    snapshot.set(name, new Map(pids().map((pid) => [pid, cpuSecondsOf(pid)])));
  }
  return snapshot;
}

export function cpuSince(
  before: Map<string, Map<number, number>>,
  components: Components,
): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, pids] of Object.entries(components)) {
    const earlier = before.get(name) ?? new Map<number, number>();
    let total = 0;
    for (const pid of pids()) total += cpuSecondsOf(pid) - (earlier.get(pid) ?? 0);
    used[name] = Math.round(total * 100) / 100;
  }
  return used;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  kernel: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
  uptime: string;
}

export function machine(): Machine {
  let uptime = '';
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    uptime = `load average: ${loadavg().join(', ')}`;
  }
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    uptime,
  };
}
