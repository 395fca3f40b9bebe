/**
 * P5 helper: runs one guest boot as a child process (tsvisor run or QEMU) whose stdout is the
 * guest's serial console (into a file read every 5 ms), and notes, for each console mark (a
 * string such as "Run /init"), the host wall time since the spawn and the child's CPU time
 * (user + system, all its threads) when the mark appeared; and the same two at the child's exit.
 *
 * CPU at a mark: utime + stime of /proc/<pid>/stat, read when the line is seen (the child is
 * still running; within 5 ms of its write; clock-tick resolution, 10 ms). CPU at exit: the
 * growth of this process's cutime + cstime (/proc/self/stat) across the run, valid once the
 * child is reaped, so only one child may run at a time (the bench runs its boots one after the
 * other, never together).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Clock ticks per second for /proc stat times (sysconf(_SC_CLK_TCK); 100 on Linux x86-64). */
const CLK_TCK = 100;

export interface Sample { wallS: number; cpuS: number }

/** One thread's CPU (user + system) at a mark, by its name (comm) and thread id. */
export interface ThreadCpu { tid: number; name: string; cpuS: number }

export interface BootResult {
  /** Each mark's first appearance; absent when it never appeared. */
  marks: Map<string, Sample & { threads: ThreadCpu[] }>;
  exit: Sample & { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean };
  /** The whole console output (latin1). */
  output: string;
}

/** Fields after the command name in a /proc/<pid>/stat line (the name may hold spaces). */
function statFields(path: string): string[] {
  const s = readFileSync(path, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a live process in seconds (fields 14 and 15, 1-based; 11 and 12 here). */
function processCpuSeconds(pid: number): number {
  const f = statFields(`/proc/${pid}/stat`);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** Per-thread CPU of a live process (/proc/<pid>/task/<tid>/stat), busiest first. */
function threadCpu(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(tid), name, cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch { /* the thread ended meanwhile */ }
  }
  return out.sort((a, b) => b.cpuS - a.cpuS);
}

/** cutime + cstime of this process (fields 16 and 17): CPU of reaped children, in seconds. */
function reapedChildrenCpuSeconds(): number {
  const f = statFields('/proc/self/stat');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

/** How often the console file is looked at for new output (ms): the marks' time resolution. */
const POLL_MS = 5;

export function bootWithSerial(command: string, args: string[], marks: readonly string[], timeoutMs: number): Promise<BootResult> {
  // The console goes to a file, not a pipe: `tsvisor run` writes it with writeSync(1) and fails
  // with EAGAIN when a non-blocking pipe or socket is full (seen under load); a file never is.
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-p5-'));
  const file = join(dir, 'console.txt');
  const outFd = openSync(file, 'w');
  const inFd = openSync(file, 'r');
  const c0 = reapedChildrenCpuSeconds();
  const t0 = process.hrtime.bigint();
  const wall = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const child = spawn(command, args, { stdio: ['ignore', outFd, 'pipe'] });
  closeSync(outFd);
  const seen = new Map<string, Sample & { threads: ThreadCpu[] }>();
  const longest = Math.max(...marks.map((m) => m.length));
  const buf = Buffer.alloc(1 << 16);
  let output = '';
  let stderr = '';
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);

  /** Reads what the child wrote since the last look, noting the marks that appeared in it. */
  const look = (): void => {
    const at = wall();
    const from = Math.max(0, output.length - longest); // a mark may straddle two reads
    for (let n; (n = readSync(inFd, buf, 0, buf.length, null)) > 0;) output += buf.toString('latin1', 0, n);
    const recent = output.slice(from);
    for (const m of marks) {
      if (seen.has(m) || !recent.includes(m)) continue;
      let cpuS = NaN, threads: ThreadCpu[] = [];
      try {
        cpuS = processCpuSeconds(child.pid!);
        threads = threadCpu(child.pid!);
      } catch { /* exited between the write and now: no figure */ }
      seen.set(m, { wallS: at, cpuS, threads });
    }
  };
  const poll = setInterval(look, POLL_MS);
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('latin1'); });

  const cleanUp = (): void => {
    clearTimeout(timer);
    clearInterval(poll);
    closeSync(inFd);
    rmSync(dir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    child.on('error', (e) => { cleanUp(); reject(e); });
    child.on('close', (code, signal) => {
      const exit = { wallS: wall(), cpuS: reapedChildrenCpuSeconds() - c0, code, signal, timedOut };
      look();
      cleanUp();
      if (stderr.trim()) output += `\n[stderr] ${stderr.trim()}\n`;
      resolve({ marks: seen, exit, output });
    });
  });
}
