/** Running the measured commands: wall time, exit status, output, and the peak RSS of a process and its children. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Ran {
  readonly seconds: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident set (VmHWM) per process of the tree, by its command line, in bytes. */
  readonly peaks: readonly { readonly command: string; readonly bytes: number }[];
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Runs `file argv` and waits; with `trackRss`, samples the VmHWM of the process and its descendants every 50 ms. */
export function run(
  file: string,
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; trackRss?: boolean; input?: NodeJS.ReadableStream } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, [...argv], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (options.input && child.stdin) options.input.pipe(child.stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const peaks = new Map<number, { command: string; bytes: number }>();
    const sample = () => {
      if (!child.pid) return;
      const stack = [child.pid];
      while (stack.length > 0) {
        const pid = stack.pop()!;
        try {
          const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
          const command =
            peaks.get(pid)?.command ?? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
          peaks.set(pid, { command, bytes: Math.max(peaks.get(pid)?.bytes ?? 0, kb * 1024) });
        } catch {
          // exited between listing and reading
        }
        stack.push(...childrenOf(pid));
      }
    };
    const timer = options.trackRss ? setInterval(sample, 50) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        code,
        stdout,
        stderr,
        peaks: [...peaks.values()],
      });
    });
  });
}

/** Runs and rejects unless the exit code is 0. */
export async function runOk(
  file: string,
  argv: readonly string[],
  options: Parameters<typeof run>[2] = {},
): Promise<Ran> {
  const ran = await run(file, argv, options);
  if (ran.code !== 0) throw new Error(`${file} ${argv.join(' ')} exited ${ran.code}:\n${ran.stderr.slice(-4000)}`);
  return ran;
}

/** `a | b`: resolves when both exit, rejects unless both exit 0. */
export function pipe(
  a: { file: string; argv: readonly string[]; env: NodeJS.ProcessEnv },
  b: { file: string; argv: readonly string[]; env: NodeJS.ProcessEnv },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const left = spawn(a.file, [...a.argv], { env: a.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const right = spawn(b.file, [...b.argv], { env: b.env, stdio: ['pipe', 'ignore', 'pipe'] });
    left.stdout.pipe(right.stdin);
    let err = '';
    left.stderr.on('data', (d: Buffer) => (err += d.toString()));
    right.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let pending = 2;
    let failed = false;
    const done = (code: number | null) => {
      if (code !== 0) failed = true;
      if (--pending > 0) return;
      if (failed) reject(new Error(err));
      else resolve(Number(process.hrtime.bigint() - started) / 1e9);
    };
    left.on('close', done);
    right.on('close', done);
  });
}
