/**
 * P7 helper: a guest run as a child process (tsvisor run or QEMU) whose serial console is its
 * stdin/stdout, driven like a person at the busybox shell: type a line, wait for what it prints.
 * Marks the bench waits for are printed by shell arithmetic (`echo DONE-$((40+2))` prints
 * DONE-42) so the console's echo of the typed line never matches them.
 *
 * The console is read from a pipe: the bench types little and the guest prints little (no bulk
 * data goes over the console), so the pipe never fills.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for /proc stat times (sysconf(_SC_CLK_TCK); 100 on Linux x86-64). */
const CLK_TCK = 100;

export class GuestConsole {
  private readonly child: ChildProcessWithoutNullStreams;
  output = '';
  private stderr = '';
  /** Where the next wait starts looking. */
  private mark = 0;
  private waiters: (() => void)[] = [];
  private exited = false;

  constructor(readonly name: string, command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // P7_ECHO=1 shows the console as it goes (debugging a stuck step).
    const echo = process.env.P7_ECHO === '1';
    this.child.stdout.on('data', (d: Buffer) => { this.output += d.toString('latin1'); if (echo) process.stderr.write(d); this.wake(); });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); this.wake(); });
    this.child.on('close', () => { this.exited = true; this.wake(); });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The match once the output after the last wait matches re; throws if the child ends or the time runs out first. */
  async waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.output.slice(this.mark));
      if (m) {
        this.mark += m.index + m[0].length;
        return m;
      }
      if (this.exited) throw new Error(`${this.name}: the guest ended (exit ${this.child.exitCode ?? this.child.signalCode}) before ${re}; ${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${re} within ${timeoutMs} ms; ${this.tail()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  tail(): string {
    return `stderr: ${this.stderr.trim().slice(-1000)}\n--- console tail ---\n${this.output.slice(-2500)}`;
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** CPU seconds (user + system, all threads) the child has used so far. */
  cpuSeconds(): number {
    const s = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  }

  /** CPU seconds per thread of the child so far, by thread name and id ("name[tid]"). */
  threadCpuSeconds(): Map<string, number> {
    const out = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${this.child.pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${this.child.pid}/task/${tid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        out.set(`${s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'))}[${tid}]`, (Number(f[11]) + Number(f[12])) / CLK_TCK);
      } catch { /* the thread ended meanwhile */ }
    }
    return out;
  }

  /** Ends the guest: kills the child and waits for it to go. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.kill('SIGKILL');
    await gone;
  }
}
