/**
 * Is the machine quiet? Load averages, and — more precisely — the CPU time that processes *outside* the benchmark
 * used while it measured: every CPU second the machine spent (/proc/stat) minus the CPU seconds of the benchmark's
 * own process trees (this process and its children, and the PostgreSQL servers it started). A measurement during
 * which other work took more than a small share of the CPUs is flagged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

const TICK = 100; // USER_HZ on Linux

/** Busy CPU seconds of the whole machine since boot (all CPUs; idle and iowait excluded). */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...fields] = line.trim().split(/\s+/);
  const v = fields.map(Number);
  // user nice system idle iowait irq softirq steal
  return ((v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0)) / TICK;
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime: everything this process and its reaped children used. */
  readonly seconds: number;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        seconds: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICK,
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds used so far by the trees rooted at `roots` (a process's reaped children are in its cutime). */
function treeSeconds(roots: readonly number[]): number {
  const all = processes();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(all.map((p) => [p.pid, p]));
  let total = 0;
  const seen = new Set<number>();
  const stack = roots.filter((pid) => byPid.has(pid));
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += byPid.get(pid)?.seconds ?? 0;
    for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return total;
}

/** What a measurement window saw of the machine. */
export interface Quietness {
  readonly loadBefore: number;
  readonly loadAfter: number;
  /** CPU seconds of other work during the window, as a share of the machine's CPU capacity in it. */
  readonly foreignShare: number;
}

/** Other work may use at most this share of the machine while a figure is taken. */
export const MAX_FOREIGN_SHARE = 0.05;

/** Watches one measurement window. `roots`: pids of the benchmark's own trees (this process, the servers). */
export class Window {
  private readonly loadBefore = loadavg()[0] ?? 0;
  private readonly busy0 = machineBusySeconds();
  private readonly ours0: number;
  private readonly t0 = process.hrtime.bigint();

  constructor(private readonly roots: () => readonly number[]) {
    this.ours0 = treeSeconds(roots());
  }

  close(): Quietness {
    const wall = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const busy = machineBusySeconds() - this.busy0;
    const ours = treeSeconds(this.roots()) - this.ours0;
    const capacity = Math.max(wall, 0.01) * cpus().length;
    return {
      loadBefore: this.loadBefore,
      loadAfter: loadavg()[0] ?? 0,
      foreignShare: Math.max(0, busy - ours) / capacity,
    };
  }
}

/** Waits up to `seconds` for the 1-minute load average to fall to `max`; returns the last value seen. */
export async function settleLoad(max: number, seconds: number): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let load = loadavg()[0] ?? 0;
  while (load > max && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    load = loadavg()[0] ?? 0;
  }
  return load;
}

/** The machine, in words: CPU model, cores, memory, OS. */
export function describeMachine(): string {
  const model = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const memGiB = Math.round(
    Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1048576,
  );
  let os: string = process.platform;
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // keep the platform name
  }
  return `${cpus().length} × ${model}, ${memGiB} GiB, ${os}, Node ${process.version}`;
}
