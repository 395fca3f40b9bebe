/**
 * P4: speed of the soft backend in MIPS on a compute guest, against QEMU TCG running the same
 * guest binary and v86 (npm devDependency, x86-to-wasm JIT) running the same loop as a multiboot
 * kernel, all in the same run.
 *
 * Guest: guests/soft-bench.S, a 64 KiB ROM started from the reset vector (QEMU: -bios; soft:
 * mapped at 0xffff0000 from the reset state); it enters flat 32-bit protected mode and runs a
 * 10-instruction loop ITER times, writes its checksum to port 0xe9 and leaves through QEMU's
 * isa-debug-exit port.
 * Instruction counts: soft: exactly, from the deterministic TSC (= instructions retired).
 * QEMU: ITER x 10 + the fixed prologue/epilogue; its start-up cost is removed by timing two
 * iteration counts and dividing the instruction difference by the time difference.
 * Times are CPU times (user + system of this process for soft, of the QEMU child for QEMU), so
 * the figure is not skewed by other load on a shared machine; wall-clock MIPS are printed too.
 * Both must produce the same checksum, or the bench fails.
 *
 * Steady state (the figure QEMU and v86 are given): instructions of a long run minus a short
 * run over their CPU-time difference, for every engine, soft included. "incl. warm-up": one
 * SOFT_ITER run from start to end (soft: block building and compiling; v86: wasm compile,
 * start-up and its JIT).
 * v86: bench/p4-v86.ts runs guests/soft-bench-mb (bench/p4-multiboot.ts loads the same image on
 * soft); reported as ratios soft / v86, steady state and incl. warm-up. Skipped with a message
 * when the package is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor, State } from '../src/index.js';
import { resetState } from '../src/x86/boot-state.js';
import { guestWithCount } from './guest-count.js';
import { runSoftMultiboot, type LoopRun } from './p4-multiboot.js';
import { loadV86, runV86 } from './p4-v86.js';

const SOFT_ITER = 2_000_000;
/** The long soft run of the steady-state figure (the short one is SOFT_ITER). */
const SOFT_LONG_ITER = 6_000_000;
const V86_ITER = [2_000_000, 100_000_000];
const QEMU_ITER = [2_000_000, 100_000_000];
const PER_ITER = 10;
const QEMU = '/usr/bin/qemu-system-x86_64';

/** The bench ROM with its loop count patched (the imm32 of `mov ecx, 1000000` at label count). */
function rom(iterations: number): Uint8Array {
  return guestWithCount('soft-bench', [0xb9], 1_000_000, iterations);
}

function line(figure: string, tsvisor: number, reference: number | null): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(2), reference: reference === null ? null : +reference.toFixed(2), unit: 'MIPS',
    ratio: reference === null ? null : +(tsvisor / reference).toFixed(4),
  }));
}

function runSoft(iterations: number): { instructions: number; cpuS: number; wallS: number; checksum: number } {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine();
    const r = m.allocate(0x10000);
    r.bytes.set(rom(iterations));
    m.map(0xffff0000, r, { prot: 'rx' });
    m.map(0, m.allocate(2 * 2 ** 20));
    const cpu = m.createVcpu(0);
    cpu.setState(resetState());
    const out: number[] = [];
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    for (;;) {
      const e = cpu.run();
      if (e.reason !== 'io') throw new Error(`soft-bench on soft: unexpected exit ${e.reason}`);
      if (e.port === 0x501) break;
      out.push(e.data[0]!);
      cpu.assistIo(e, () => {});
    }
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const instructions = Number(cpu.getState(State.MSRS).msrs!.tsc);
    return { instructions, cpuS: (c.user + c.system) / 1e6, wallS, checksum: checksumOf(out) };
  } finally {
    hv.close();
  }
}

function checksumOf(bytes: number[]): number {
  return ((bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0);
}

/** CPU seconds used by this process's reaped children (utime + stime from /proc/self/stat). */
function childCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // Fields after the comm: state(3) ... cutime is field 16, cstime 17 (1-based), i.e. index 13, 14 here.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function runQemu(dir: string, iterations: number): { cpuS: number; wallS: number; checksum: number } {
  const image = join(dir, `bench-${iterations}.bin`);
  const debug = join(dir, `debugcon-${iterations}.txt`);
  writeFileSync(image, rom(iterations));
  rmSync(debug, { force: true });
  const c0 = childCpuSeconds(), t0 = process.hrtime.bigint();
  const r = spawnSync(QEMU, ['-accel', 'tcg', '-nographic', '-display', 'none', '-no-reboot', '-m', '16',
    '-bios', image, '-device', 'isa-debug-exit,iobase=0x501,iosize=1', '-debugcon', `file:${debug}`,
    '-monitor', 'none', '-serial', 'none'], { encoding: 'utf8', timeout: 120_000 });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuS = childCpuSeconds() - c0;
  // isa-debug-exit: status (0 << 1) | 1 = 1 is the guest's normal end.
  if (r.status !== 1) throw new Error(`qemu exited with ${r.status}: ${r.stderr || r.error?.message}`);
  return { cpuS, wallS, checksum: checksumOf(Array.from(readFileSync(debug))) };
}

/** MIPS between a short and a long run (start-up and warm-up cancel out). */
function steady(short: { instructions: number; cpuS: number }, long: { instructions: number; cpuS: number }): number {
  return (long.instructions - short.instructions) / (long.cpuS - short.cpuS) / 1e6;
}

const soft = runSoft(SOFT_ITER);
const softMips = soft.instructions / soft.cpuS / 1e6;
const softWallMips = soft.instructions / soft.wallS / 1e6;
if (soft.instructions < SOFT_ITER * PER_ITER) throw new Error(`soft retired only ${soft.instructions} instructions`);
const softLong = runSoft(SOFT_LONG_ITER);
if (softLong.checksum === soft.checksum) throw new Error('soft: the long run gave the short run\'s checksum (iteration count not patched?)');
const softSteadyMips = steady(soft, softLong);

if (!existsSync(QEMU)) {
  console.log(`p4-soft-mips: SKIP reference: ${QEMU} not installed (apt-get install -y qemu-system-x86)`);
  line('p4 soft backend MIPS, compute guest (CPU time; QEMU TCG reference absent)', softMips, null);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-p4-'));
  try {
    const [small, large] = QEMU_ITER.map((n) => runQemu(dir, n)) as [ReturnType<typeof runQemu>, ReturnType<typeof runQemu>];
    const check = runQemu(dir, SOFT_ITER);
    if (check.checksum !== soft.checksum) {
      throw new Error(`checksum mismatch: soft 0x${soft.checksum.toString(16)} vs qemu 0x${check.checksum.toString(16)}`);
    }
    const extra = (QEMU_ITER[1]! - QEMU_ITER[0]!) * PER_ITER;
    const qemuMips = extra / (large.cpuS - small.cpuS) / 1e6;
    const qemuWallMips = extra / (large.wallS - small.wallS) / 1e6;
    console.log(`p4-soft-mips: soft ${soft.instructions} instructions in ${soft.cpuS.toFixed(2)} s CPU (${soft.wallS.toFixed(2)} s wall); ` +
      `qemu ${extra} extra instructions in ${(large.cpuS - small.cpuS).toFixed(2)} s CPU; checksums equal (0x${soft.checksum.toString(16)})`);
    line('p4 soft backend MIPS vs QEMU TCG, compute guest, steady state (CPU time)', softSteadyMips, qemuMips);
    line('p4 soft backend MIPS vs QEMU TCG, compute guest (CPU time)', softMips, qemuMips);
    line('p4 soft backend MIPS vs QEMU TCG, compute guest (wall clock)', softWallMips, qemuWallMips);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Soft against v86 on the multiboot form of the loop: steady state and including warm-up. */
async function versusV86(): Promise<void> {
  const v86 = await loadV86();
  if (typeof v86 === 'string') {
    console.log(`p4-soft-mips: SKIP v86 reference: ${v86}`);
    return;
  }
  const softShort = runSoftMultiboot(SOFT_ITER), softLong = runSoftMultiboot(SOFT_LONG_ITER);
  const runs: LoopRun[] = [];
  for (const n of V86_ITER) runs.push(await runV86(v86, n));
  const [short, long] = runs as [LoopRun, LoopRun];
  if (short.checksum !== softShort.checksum) {
    throw new Error(`checksum mismatch: soft 0x${softShort.checksum.toString(16)} vs v86 0x${short.checksum.toString(16)}`);
  }
  if (short.checksum !== soft.checksum) throw new Error('the multiboot loop and the ROM loop disagree on the checksum');
  console.log(`p4-soft-mips: v86 ${short.instructions} instructions in ${short.cpuS.toFixed(2)} s CPU incl. start-up, ` +
    `${long.instructions - short.instructions} more in ${(long.cpuS - short.cpuS).toFixed(2)} s; soft (multiboot) ${softShort.instructions} in ${softShort.cpuS.toFixed(2)} s`);
  line('p4 soft backend MIPS vs v86, multiboot compute guest, steady state (CPU time)', steady(softShort, softLong), steady(short, long));
  line(`p4 soft backend MIPS vs v86, multiboot compute guest, incl. warm-up (CPU time, ${SOFT_ITER * PER_ITER / 1e6}M instructions)`,
    softShort.instructions / softShort.cpuS / 1e6, short.instructions / short.cpuS / 1e6);
}
await versusV86();
