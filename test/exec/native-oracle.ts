/**
 * Runs instructions natively on this CPU (test/exec/native/oracle.c, built with gcc at test
 * time) to get reference results, flags included. Unavailable (no gcc, not x86-64) -> a reason.
 */
import { spawnSync } from 'node:child_process';
import { buildOracle, notAmd } from '../native-oracle-build.js';

export const MEM_BASE = 0x10000000;
export const MEM_SIZE = 256;
/** Where stack-mode cases run natively (and so the RIP execute() must start from). */
export const STACK_RIP = 0x20000800;

/**
 * compat: run in 32-bit compatibility mode (EAX..EDI loaded and returned, ESP excluded).
 * stack: 64-bit with RSP loaded and returned too, the instruction at STACK_RIP.
 */
export interface NativeCase {
  bytes: Uint8Array; regs: bigint[]; flags: number; mem: Uint8Array; compat?: boolean; stack?: boolean;
}
export type NativeResult = { fault: 'DE' | 'UD' | 'SEGV' } | { fault: undefined; regs: bigint[]; flags: number; mem: Uint8Array };

let built: string | undefined;
let why: string | undefined;

/** Path of the oracle binary, building it on first use; undefined (with oracleUnavailable()) if impossible. */
function oracle(): string | undefined {
  if (built || why) return built;
  // The executor's "undefined" flags follow AMD (src/x86/exec/undefined-flags.ts); diffing them
  // against another vendor's CPU would report those choices, not bugs.
  const b = buildOracle('native oracle', 'exec/native/oracle.c');
  why = b.why ?? notAmd("the executor's undefined-flag policy is AMD's");
  if (why === undefined) built = b.bin;
  return built;
}

export function oracleUnavailable(): string | undefined {
  oracle();
  return why;
}

let compatWhy: string | undefined | null = null;

/**
 * Why 32-bit compatibility-mode cases cannot run here, or undefined when they can. Kernels built or
 * booted without IA-32 emulation (CONFIG_IA32_EMULATION off, ia32_emulation=0) fault on the first
 * instruction of a 32-bit code segment, so one NOP is tried before any 32-bit case is trusted.
 */
export function compatUnavailable(): string | undefined {
  if (compatWhy !== null) return compatWhy;
  compatWhy = oracleUnavailable();
  if (compatWhy === undefined) {
    const nop: NativeCase = { bytes: Uint8Array.of(0x90), regs: new Array<bigint>(16).fill(0n), flags: 2, mem: new Uint8Array(MEM_SIZE), compat: true };
    const [r] = runBatch([nop]);
    if (r.fault !== undefined) {
      compatWhy = `this kernel cannot run 32-bit compatibility-mode code (one NOP in a 32-bit code segment gave ${r.fault}; IA-32 emulation is off)`;
    }
  }
  return compatWhy;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Runs the cases natively, in batches (one oracle process each) to bound the output size. */
export function runNative(cases: NativeCase[]): NativeResult[] {
  const out: NativeResult[] = [];
  for (let i = 0; i < cases.length; i += 20000) out.push(...runBatch(cases.slice(i, i + 20000)));
  return out;
}

function runBatch(cases: NativeCase[]): NativeResult[] {
  const bin = oracle();
  if (!bin) throw new Error(why);
  const input = cases.map((c) =>
    `${c.compat ? '32:' : c.stack ? 'S:' : ''}${hex(c.bytes)} ${c.regs.map((r) => BigInt.asUintN(64, r).toString(16)).join(' ')} ${c.flags.toString(16)} ${hex(c.mem)}`,
  ).join('\n') + '\n';
  const r = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`native oracle exited ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== cases.length) throw new Error(`native oracle: ${lines.length} results for ${cases.length} cases`);
  return lines.map((line) => {
    if (line === 'DE' || line === 'UD' || line === 'SEGV') return { fault: line };
    const f = line.split(' ');
    const mem = new Uint8Array(MEM_SIZE);
    for (let i = 0; i < MEM_SIZE; i++) mem[i] = parseInt(f[17].slice(2 * i, 2 * i + 2), 16);
    return { fault: undefined, regs: f.slice(0, 16).map((x) => BigInt('0x' + x)), flags: parseInt(f[16], 16), mem };
  });
}
