/**
 * An interactive `tsvisor run` of the Debian test guest for end-to-end tests that talk to the
 * guest while it runs (the network tests): type a command, wait for what it prints, act on the
 * host, type the next. linux-boot.ts types one script up front; this waits between steps.
 *
 * Markers the tests wait for are printed by shell arithmetic (`echo DONE-$((40+2))` prints
 * DONE-42), so the console's echo of the typed command never matches them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN } from '../cli/run-cli.js';
import { guest } from './linux-boot.js';

const PROMPT = /\/ # /;

export class GuestSession {
  private readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** Where the next wait starts looking. */
  private mark = 0;
  private waiters: (() => void)[] = [];
  readonly closed: Promise<number | null>;

  /** `wrapper` runs the monitor under another program (e.g. `ip netns exec NS`). */
  constructor(extraArgs: string[], wrapper: string[] = []) {
    if (typeof guest === 'string') throw new Error(guest);
    const argv = [...wrapper, process.execPath];
    this.child = spawn(argv[0]!, [...argv.slice(1), BIN, 'run', '--kernel', guest.vmlinuz, '--initrd', guest.initramfs, '--backend', 'soft',
      '--append', 'console=ttyS0 tsvisor.shell', ...extraArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    // TSVISOR_GUEST_ECHO=1 shows the console as it goes (debugging a stuck step).
    const echo = process.env.TSVISOR_GUEST_ECHO === '1';
    this.child.stdout.on('data', (d: Buffer) => { this.stdout += d.toString('latin1'); if (echo) process.stderr.write(d); this.wake(); });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); this.wake(); });
    this.closed = new Promise((resolve) => this.child.on('close', (status) => { this.wake(); resolve(status); }));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the match once the output after the last wait matches re; rejects if the run ends first. */
  async waitFor(re: RegExp): Promise<RegExpExecArray> {
    let ended = false;
    void this.closed.then(() => { ended = true; });
    for (;;) {
      const m = re.exec(this.stdout.slice(this.mark));
      if (m) {
        this.mark += m.index + m[0].length;
        return m;
      }
      if (ended || this.child.exitCode !== null) throw new Error(`the run ended (exit ${this.child.exitCode}) before ${re}; stderr: ${this.stderr}\noutput:\n${this.stdout.slice(-3000)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async prompt(): Promise<void> {
    await this.waitFor(PROMPT);
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Types a command followed by a marker echo and returns the output between them. */
  async run(command: string, tag: string): Promise<string> {
    const start = this.stdout.length;
    this.type(`${command}; echo ${tag}-END-$((40+2))`);
    await this.waitFor(new RegExp(`${tag}-END-42`));
    return this.stdout.slice(start, this.mark);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
