/**
 * P8: the soft CPU on short blocks (kernel-shaped call and return code) against the same function
 * run natively, in one run.
 *
 * Guest: guests/call-chain-bench.S, 64 CALLs per pass to leaf functions of six instructions
 * (PUSH MOV ADD XOR POP RET): 129 blocks per pass of 450 instructions. A Linux boot's compiled
 * blocks retire 5 instructions per call on average, and a third of its run time goes to them
 * (P5): this is what one step from block to block costs, where P4 and P6 measure long loops.
 *
 * Soft, steady state (the main figure): one machine runs the guest for WARM instructions in
 * slices, sleeping between them so that the engine's background compiles finish, then TIMED
 * instructions in slices (RunLimit), CPU time per slice, best slice. Including warm-up: the first
 * slice from a fresh machine. Native: bench/c/p8-call-chain.c calls the same function; a long
 * run minus a short one, CPU time. Both must return the same value for the same number of passes.
 * Never compiled: the soft steady state again with compiling off, every block through its records
 * (cold-code.ts), the tier where a Linux boot runs ~170 M of its instructions, at several times
 * a compiled block's cost per instruction.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hypervisor, State } from '../src/index.js';
import { longModeState } from '../src/x86/boot-state.js';
import { guestWithCount } from './guest-count.js';
import { HOT_BLOCK_RUNS, setHotBlockRuns } from '../src/backends/soft/block-compile.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CODE = 0x100000, TABLES = 0x300000, RAM = 4 << 20;
const PASS_INSNS = 450, PASS_BLOCKS = 129;
const SLICE = 30_000_000, WARM_SLICES = 3, TIMED_SLICES = 3;
const CHECK_PASSES = 1000;
const NATIVE_PASSES = [1_000_000, 10_000_000];

/** The guest with its pass count patched (the imm32 of `mov $1000, %edi` at its label count). */
function guest(passes: number): Uint8Array {
  return guestWithCount('call-chain-bench', [0xbf], 1000, passes);
}

const sleep = (ms: number): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); };

interface Soft { steadyMips: number; warmMips: number; result: number }

/** cold: no block is ever compiled (each runs through its records, cold-code.ts: the tier a Linux boot runs ~170 M instructions in). */
function runSoft(cold = false): Soft {
  const hv = Hypervisor.open({ backend: 'soft' });
  const hot = HOT_BLOCK_RUNS;
  if (cold) setHotBlockRuns(Infinity);
  try {
    const vm = (passes: number) => {
      const m = hv.createMachine();
      const ram = m.allocate(RAM);
      m.map(0, ram);
      ram.bytes.set(guest(passes), CODE);
      const cpu = m.createVcpu(0);
      cpu.setState(longModeState({ ram: ram.bytes, ramGpa: 0, tablesGpa: TABLES, mapBytes: RAM }, { entry: CODE, stack: 0x80000 }));
      return cpu;
    };
    // The result to compare with the native run: a short run to its end.
    const short = vm(CHECK_PASSES);
    const check = short.run();
    if (check.reason !== 'io' || check.port !== 0xe9) throw new Error(`call-chain-bench on soft: unexpected exit ${check.reason}`);
    const result = Number(short.getState(State.GPRS).gprs!.rax & 0xffffffffn);
    const cpu = vm(0x7fffffff);
    const tsc = (): number => Number(cpu.getState(State.MSRS).msrs!.tsc);
    const slice = (): { n: number; s: number } => {
      const n0 = tsc(), c0 = process.cpuUsage();
      const exit = cpu.run({ maxInstructions: SLICE });
      const c = process.cpuUsage(c0);
      if (exit.reason !== 'stopped') throw new Error(`call-chain-bench on soft: unexpected exit ${exit.reason}`);
      return { n: tsc() - n0, s: (c.user + c.system) / 1e6 };
    };
    const first = slice();
    for (let i = 1; i < WARM_SLICES; i++) { sleep(300); slice(); }
    sleep(300);
    let best = Infinity;
    for (let i = 0; i < TIMED_SLICES; i++) { const t = slice(); best = Math.min(best, t.s / t.n); }
    return { steadyMips: 1 / best / 1e6, warmMips: first.n / first.s / 1e6, result };
  } finally {
    setHotBlockRuns(hot);
    hv.close();
  }
}

function nativeProgram(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'tsvisor-p8-')), 'p8-call-chain');
  execFileSync('cc', ['-O2', '-Wall', '-o', out, join(ROOT, 'bench/c/p8-call-chain.c'), join(ROOT, 'guests/call-chain-bench.S')], { stdio: ['ignore', 'inherit', 'ignore'] });
  return out;
}

function runNative(program: string, passes: number): { result: number; cpuS: number } {
  const r = spawnSync(program, [String(passes)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${program} exited ${r.status}: ${r.stderr}`);
  const [result, cpuS] = r.stdout.trim().split(' ').map(Number) as [number, number];
  return { result, cpuS };
}

function line(figure: string, tsvisor: number, reference: number | null, unit = 'MIPS'): void {
  console.log(JSON.stringify({
    figure, tsvisor: +tsvisor.toFixed(2), reference: reference === null ? null : +reference.toFixed(2), unit,
    ratio: reference === null ? null : +(tsvisor / reference).toFixed(4),
  }));
}

const soft = runSoft();
const cold = runSoft(true);
if (cold.result !== soft.result) throw new Error(`call-chain-bench: cold blocks returned ${cold.result}, compiled ${soft.result}`);
const program = nativeProgram();
const check = runNative(program, CHECK_PASSES);
if (check.result !== soft.result) throw new Error(`call-chain-bench: soft returned ${soft.result}, native ${check.result} after ${CHECK_PASSES} passes`);
const [nShort, nLong] = NATIVE_PASSES.map((n) => runNative(program, n)) as [ReturnType<typeof runNative>, ReturnType<typeof runNative>];
const nativeMips = (NATIVE_PASSES[1]! - NATIVE_PASSES[0]!) * PASS_INSNS / (nLong.cpuS - nShort.cpuS) / 1e6;

console.log(`p8-call-chain: ${PASS_INSNS} instructions in ${PASS_BLOCKS} blocks per pass; soft ${SLICE} instructions per slice, best of ${TIMED_SLICES} after ${WARM_SLICES} warm-up slices; same result as native (${soft.result})`);
line('p8 soft MIPS vs native, short blocks (call/ret chain, 64-bit), steady state (CPU time)', soft.steadyMips, nativeMips);
line('p8 soft ns per block, short blocks, steady state (CPU time)', 1e3 / soft.steadyMips * PASS_INSNS / PASS_BLOCKS, null, 'ns');
line('p8 soft MIPS, short blocks, first slice including warm-up (CPU time)', soft.warmMips, null);
line('p8 soft ns per block, short blocks, never compiled (cold records), steady state (CPU time)', 1e3 / cold.steadyMips * PASS_INSNS / PASS_BLOCKS, null, 'ns');
