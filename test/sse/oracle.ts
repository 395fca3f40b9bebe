/**
 * Runs SSE/MMX instructions natively (test/exec/native/sse-int-oracle.c, built with gcc at test
 * time) for reference results. Unavailable (no gcc, not x86-64) -> a reason.
 */
import { spawnSync } from 'node:child_process';
import { buildOracle } from '../native-oracle-build.js';

export const MEM_BASE = 0x10000000;
export const MEM_SIZE = 256;

export interface VectorCase { bytes: Uint8Array; regs: bigint[]; flags: number; xmm: Uint8Array; mm: Uint8Array; mem: Uint8Array }
export type VectorResult =
  | { fault: 'UD' | 'SEGV' | 'FPE' | 'BUS' }
  | { fault: undefined; regs: bigint[]; flags: number; xmm: Uint8Array; mm: Uint8Array; mem: Uint8Array };

let built: string | undefined;
let why: string | undefined;

function oracle(): string | undefined {
  if (built || why) return built;
  const b = buildOracle('the SSE oracle', 'exec/native/sse-int-oracle.c');
  built = b.bin;
  why = b.why;
  return built;
}

export function oracleUnavailable(): string | undefined {
  oracle();
  return why;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export function runNative(cases: VectorCase[]): VectorResult[] {
  const out: VectorResult[] = [];
  for (let i = 0; i < cases.length; i += 4000) out.push(...runBatch(cases.slice(i, i + 4000)));
  return out;
}

function runBatch(cases: VectorCase[]): VectorResult[] {
  const bin = oracle();
  if (!bin) throw new Error(why);
  const input = cases.map((c) =>
    `${hex(c.bytes)} ${c.regs.map((r) => BigInt.asUintN(64, r).toString(16)).join(' ')} ${c.flags.toString(16)} ${hex(c.xmm)} ${hex(c.mm)} ${hex(c.mem)}`,
  ).join('\n') + '\n';
  const r = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`SSE oracle exited ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== cases.length) throw new Error(`SSE oracle: ${lines.length} results for ${cases.length} cases`);
  return lines.map((line): VectorResult => {
    if (line === 'UD' || line === 'SEGV' || line === 'FPE' || line === 'BUS') return { fault: line };
    const f = line.split(' ');
    return {
      fault: undefined, regs: f.slice(0, 16).map((x) => BigInt('0x' + x)), flags: parseInt(f[16]!, 16),
      xmm: unhex(f[17]!), mm: unhex(f[18]!), mem: unhex(f[19]!),
    };
  });
}
