/**
 * P5: Linux boot on the soft backend, side by side with QEMU TCG in the same run (goal, issues
 * 10/11: `tsvisor run` boots the stock Debian kernel to `Run /init` in <= 15 s of CPU on soft).
 *
 * Guest: scripts/linux-guest.mjs (the Debian 12 cloud kernel and a busybox initramfs whose /init
 * loads the virtio modules, prints TSVISOR-GUEST-READY and runs `poweroff -f`). Both sides get
 * the same kernel, initramfs, command line (the monitor's default, "console=ttyS0 panic=-1"),
 * 256 MiB and one vCPU:
 *   tsvisor: `node bin/tsvisor.js run --backend soft` (console on stdout);
 *   QEMU:    `qemu-system-x86_64 -machine q35 -accel tcg -nographic -no-reboot -vga none -nic none`
 *            (no VGA, no NIC: tsvisor has neither; q35's ACPI S5 ends QEMU at poweroff).
 * Points, from the serial console with host timestamps: `Run /init` and the process's exit after
 * `reboot: Power down`. Times: CPU (user + system of the child, all threads) and wall clock,
 * from the spawn, so each side's start-up (Node and kernel loading; QEMU's) is included.
 * ratio = tsvisor / QEMU: how many times QEMU's time tsvisor takes (lower is better).
 *
 * Instructions per second (tsvisor only): one more soft boot in this process's child running
 * runMachine in-thread with an instruction count (bench/p5-boot-inthread.ts). QEMU's count is
 * not available: its TCG plugins (libinsn) are not shipped by Debian, and -icount would change
 * how it runs. P5_IPS=0 skips that run.
 *
 * Rounds: P5_RUNS (default 1, since one soft boot is ~80 s of CPU); each round boots tsvisor
 * then QEMU, one at a time; each figure is the lowest of its rounds. The tsvisor process's CPU
 * includes V8's helper threads (concurrent GC and compilation, ~8 s of a boot): its CPU time can
 * exceed its wall time on a 2-core host. A text line gives the CPU per thread at `Run /init`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kernelCmdline } from '../src/vmm/core/vm-config.js';
import { bootWithSerial, type BootResult, type Sample } from './p5-serial-boot.js';

const RUNS = Number(process.env.P5_RUNS ?? 1);
const WANT_IPS = process.env.P5_IPS !== '0';
const QEMU = '/usr/bin/qemu-system-x86_64';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INIT = 'Run /init', READY = 'TSVISOR-GUEST-READY', POWER_DOWN = 'reboot: Power down';
const MARKS = [INIT, READY, POWER_DOWN];
const SOFT_TIMEOUT_MS = 15 * 60_000, QEMU_TIMEOUT_MS = 3 * 60_000;
const CMDLINE = kernelCmdline(undefined);

interface Guest { vmlinuz: string; initramfs: string; kernelVersion: string }

function guest(): Guest | undefined {
  const r = spawnSync(process.execPath, [`${ROOT}scripts/linux-guest.mjs`, '--quiet'], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) {
    console.log(`p5-linux-boot: SKIP: no Linux guest (scripts/linux-guest.mjs: ${(r.stderr || r.error?.message || '').trim()})`);
    return undefined;
  }
  return JSON.parse(r.stdout) as Guest;
}

/** The boot must reach the end of /init and power off cleanly, or its times mean nothing. */
function checked(side: string, r: BootResult, okCode: number): BootResult {
  const missing = MARKS.filter((m) => !r.marks.has(m));
  if (r.exit.timedOut || r.exit.code !== okCode || missing.length || !Number.isFinite(r.marks.get(INIT)!.cpuS)) {
    const why = r.exit.timedOut ? 'timed out (killed)' : `exit ${r.exit.code ?? r.exit.signal}`;
    throw new Error(`${side} boot failed: ${why}${missing.length ? `, never printed ${missing.join(', ')}` : ''}\n--- console tail ---\n${r.output.slice(-2000)}`);
  }
  return r;
}

function bootSoft(g: Guest): Promise<BootResult> {
  return bootWithSerial(process.execPath, [`${ROOT}bin/tsvisor.js`, 'run', '--kernel', g.vmlinuz, '--initrd', g.initramfs,
    '--append', CMDLINE, '--mem', '256M', '--backend', 'soft'], MARKS, SOFT_TIMEOUT_MS).then((r) => checked('tsvisor (soft)', r, 0));
}

function bootQemu(g: Guest): Promise<BootResult> {
  return bootWithSerial(QEMU, ['-machine', 'q35', '-accel', 'tcg', '-m', '256M', '-smp', '1', '-nographic', '-monitor', 'none',
    '-no-reboot', '-vga', 'none', '-nic', 'none', '-kernel', g.vmlinuz, '-initrd', g.initramfs, '-append', CMDLINE],
  MARKS, QEMU_TIMEOUT_MS).then((r) => checked('QEMU TCG', r, 0));
}

/** The kernel's own timestamp on its `Run /init` line (guest seconds), for the text summary. */
function guestSecondsAtInit(r: BootResult): string {
  const m = /\[\s*(\d+\.\d+)\] Run \/init/.exec(r.output);
  return m ? `${m[1]} s guest` : '? s guest';
}

interface Best { init: Sample; exit: Sample }

function best(runs: BootResult[]): Best {
  const min = (xs: number[]): number => Math.min(...xs);
  return {
    init: { cpuS: min(runs.map((r) => r.marks.get(INIT)!.cpuS)), wallS: min(runs.map((r) => r.marks.get(INIT)!.wallS)) },
    exit: { cpuS: min(runs.map((r) => r.exit.cpuS)), wallS: min(runs.map((r) => r.exit.wallS)) },
  };
}

function line(figure: string, tsvisor: number, reference: number | null, unit: string): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(3), reference: reference === null ? null : +reference.toFixed(3), unit,
    ratio: reference === null ? null : +(tsvisor / reference).toFixed(2),
  }));
}

interface InThread { startup: { cpuS: number; wallS: number }; marks: Record<string, { instructions: number; cpuS: number; wallS: number }>; end: { instructions: number; cpuS: number; wallS: number }; idleNs: number; exits: Record<string, number> }

function instructionsPerSecond(g: Guest): InThread {
  const r = spawnSync(process.execPath, [`${ROOT}dist/bench/p5-boot-inthread.js`, g.vmlinuz, g.initramfs],
    { encoding: 'utf8', timeout: SOFT_TIMEOUT_MS, maxBuffer: 1 << 24, env: { ...process.env, P5_RIP_SAMPLES: '', P5_CONSOLE: '' } });
  if (r.status !== 0) throw new Error(`in-thread soft boot failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().slice(-2000)}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as InThread;
  if (!result.marks[INIT] || !result.marks[POWER_DOWN]) throw new Error(`in-thread soft boot did not reach ${INIT} and ${POWER_DOWN}: ${r.stdout}`);
  return result;
}

async function main(): Promise<void> {
  const g = guest();
  if (!g) return;
  const qemu = existsSync(QEMU);
  if (!qemu) console.log(`p5-linux-boot: SKIP reference: ${QEMU} not installed (apt-get install -y qemu-system-x86)`);
  const soft: BootResult[] = [], ref: BootResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    soft.push(await bootSoft(g));
    if (qemu) ref.push(await bootQemu(g));
  }
  const s = best(soft), q = qemu ? best(ref) : undefined;
  console.log(`p5-linux-boot: ${g.kernelVersion}, "${CMDLINE}", best of ${RUNS} round(s) (P5_RUNS); ` +
    `tsvisor soft: Run /init at ${s.init.cpuS.toFixed(2)} s CPU / ${s.init.wallS.toFixed(2)} s wall (${guestSecondsAtInit(soft[0]!)}), ` +
    `exit at ${s.exit.cpuS.toFixed(2)} s CPU / ${s.exit.wallS.toFixed(2)} s wall` +
    (q ? `; QEMU TCG: Run /init at ${q.init.cpuS.toFixed(2)} s CPU / ${q.init.wallS.toFixed(2)} s wall (${guestSecondsAtInit(ref[0]!)}), ` +
      `exit at ${q.exit.cpuS.toFixed(2)} s CPU / ${q.exit.wallS.toFixed(2)} s wall` : ''));
  const threads = soft[0]!.marks.get(INIT)!.threads.filter((t) => t.cpuS > 0)
    .map((t) => `${t.name}[${t.tid}] ${t.cpuS.toFixed(2)} s`).join(', ');
  console.log(`p5-linux-boot: tsvisor threads' CPU at Run /init (first round): ${threads}`);
  const vs = q ? ' vs QEMU TCG' : ' (QEMU TCG reference absent)';
  line(`p5 Linux boot to Run /init, CPU s (goal <= 15)${vs}`, s.init.cpuS, q?.init.cpuS ?? null, 's');
  line(`p5 Linux boot to Run /init, wall s${vs}`, s.init.wallS, q?.init.wallS ?? null, 's');
  line(`p5 Linux boot to poweroff (exit), CPU s${vs}`, s.exit.cpuS, q?.exit.cpuS ?? null, 's');
  line(`p5 Linux boot to poweroff (exit), wall s${vs}`, s.exit.wallS, q?.exit.wallS ?? null, 's');
  if (WANT_IPS) {
    const t = instructionsPerSecond(g);
    const init = t.marks[INIT]!;
    console.log(`p5-linux-boot: in-thread soft boot: start-up (machine built, kernel loaded) ${t.startup.cpuS.toFixed(2)} s CPU; ` +
      `${init.instructions} instructions to Run /init in ${init.cpuS.toFixed(2)} s CPU; ` +
      `${t.end.instructions} to the end in ${t.end.cpuS.toFixed(2)} s CPU; halted guest time ${(t.idleNs / 1e9).toFixed(3)} s; ` +
      `exits: ${Object.entries(t.exits).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    line('p5 soft guest MIPS to Run /init (CPU time, in-thread boot; QEMU count unavailable)', init.instructions / init.cpuS / 1e6, null, 'MIPS');
    line('p5 soft guest MIPS to poweroff (CPU time, in-thread boot; QEMU count unavailable)', t.end.instructions / t.end.cpuS / 1e6, null, 'MIPS');
  }
}

await main();
