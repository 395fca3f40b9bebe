/**
 * P6: the soft CPU on 64-bit bignum code, against the same function run natively, in one run.
 *
 * Guest: guests/bignum-bench.S, a multi-precision multiply-and-subtract loop shaped like the
 * generic-C bignum code (four 32x32 IMULs per limb product, CMP/CMOV, SETB, SUB from memory, ADC)
 * that takes about half of the Linux boot to init on soft (the kernel's crypto self-tests). The
 * soft side runs it in 64-bit long mode from its offset 0, which calls the function ITER times;
 * the native side (bench/c/p6-bignum.c, built here with cc) links the same assembly and calls it
 * ITER times. Both fill the arrays with the same generator and must leave the same array hash.
 *
 * Instructions: the soft TSC counts them exactly; the native run executes the same function the
 * same number of times, so its instruction count is the soft run's per-call count times ITER.
 * Steady state (the main figure): a long run minus a short run on each side, CPU time. The soft
 * figure including warm-up (block building and compiling) is reported too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hypervisor, State } from '../src/index.js';
import { longModeState } from '../src/x86/boot-state.js';
import { guestWithCount } from './guest-count.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOFT_ITER = [5_000, 45_000];
const NATIVE_ITER = [200_000, 2_000_000];
const LIMBS = 64, RES = 0x200000, S1 = 0x210000, CODE = 0x100000, TABLES = 0x300000, RAM = 4 << 20;

/** The guest with its call count patched (the imm32 of `mov $1000, %r15d` at its label count). */
function guest(iterations: number): Uint8Array {
  return guestWithCount('bignum-bench', [0x41, 0xbf], 1000, iterations);
}

/** The arrays both sides start from (the generator of bench/c/p6-bignum.c). */
function fillArrays(ram: Uint8Array): void {
  let x = 12345;
  for (let i = 0; i < LIMBS * 8; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    ram[S1 + i] = x >>> 24;
    ram[RES + i] = (x >>> 16) & 0xff;
  }
}

function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

interface Run { instructions: number; cpuS: number; hash: number; borrow: number }

function runSoft(iterations: number): Run {
  const hv = Hypervisor.open({ backend: 'soft' });
  try {
    const m = hv.createMachine();
    const ram = m.allocate(RAM);
    m.map(0, ram);
    ram.bytes.set(guest(iterations), CODE);
    fillArrays(ram.bytes);
    const cpu = m.createVcpu(0);
    cpu.setState(longModeState({ ram: ram.bytes, ramGpa: 0, tablesGpa: TABLES, mapBytes: RAM }, { entry: CODE, stack: 0x80000 }));
    const c0 = process.cpuUsage();
    const exit = cpu.run();
    const c = process.cpuUsage(c0);
    if (exit.reason !== 'io' || exit.port !== 0xe9) throw new Error(`bignum-bench on soft: unexpected exit ${exit.reason}`);
    const instructions = Number(cpu.getState(State.MSRS).msrs!.tsc);
    const borrow = Number(cpu.getState(State.GPRS).gprs!.rax & 0xffffffffn);
    return { instructions, cpuS: (c.user + c.system) / 1e6, hash: fnv1a(ram.bytes.subarray(RES, RES + LIMBS * 8)), borrow };
  } finally {
    hv.close();
  }
}

/** The native program, built into a fresh temporary directory. */
function nativeProgram(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'tsvisor-p6-')), 'p6-bignum');
  execFileSync('cc', ['-O2', '-Wall', '-o', out, join(ROOT, 'bench/c/p6-bignum.c'), join(ROOT, 'guests/bignum-bench.S')], { stdio: 'inherit' });
  return out;
}

function runNative(program: string, iterations: number): { cpuS: number; hash: number; borrow: number } {
  const r = spawnSync(program, [String(iterations)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${program} exited ${r.status}: ${r.stderr}`);
  const [hash, borrow, cpuS] = r.stdout.trim().split(' ').map(Number) as [number, number, number];
  return { cpuS, hash, borrow };
}

function line(figure: string, tsvisor: number, reference: number | null): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(2), reference: reference === null ? null : +reference.toFixed(2), unit: 'MIPS',
    ratio: reference === null ? null : +(tsvisor / reference).toFixed(4),
  }));
}

const [short, long] = SOFT_ITER.map(runSoft) as [Run, Run];
const perCall = (long.instructions - short.instructions) / (SOFT_ITER[1]! - SOFT_ITER[0]!);
const softSteady = (long.instructions - short.instructions) / (long.cpuS - short.cpuS) / 1e6;
const softWarm = short.instructions / short.cpuS / 1e6;

const program = nativeProgram();
const check = runNative(program, SOFT_ITER[0]!);
if (check.hash !== short.hash || check.borrow !== short.borrow) {
  throw new Error(`bignum-bench: soft and native disagree after ${SOFT_ITER[0]} calls: hash ${short.hash} vs ${check.hash}, borrow ${short.borrow} vs ${check.borrow}`);
}
const [nShort, nLong] = NATIVE_ITER.map((n) => runNative(program, n)) as [ReturnType<typeof runNative>, ReturnType<typeof runNative>];
const nativeSteady = perCall * (NATIVE_ITER[1]! - NATIVE_ITER[0]!) / (nLong.cpuS - nShort.cpuS) / 1e6;

console.log(`p6-bignum: ${perCall} instructions per call; soft ${long.instructions} instructions in ${long.cpuS.toFixed(2)} s CPU; native ${NATIVE_ITER[1]} calls in ${nLong.cpuS.toFixed(3)} s; same array hash (0x${short.hash.toString(16)})`);
line('p6 soft MIPS vs native, bignum inner loop (64-bit), steady state (CPU time)', softSteady, nativeSteady);
line('p6 soft MIPS, bignum inner loop, one run including warm-up (CPU time)', softWarm, null);
