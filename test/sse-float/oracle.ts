/**
 * Runs single SSE instructions on this CPU (test/exec/native/sse-float-oracle.c, built with gcc at
 * test time) to get reference results: MXCSR after, XMM0/MM0/RAX/RFLAGS after, or #XM with the
 * MXCSR and XMM0 the fault left. Unavailable (no gcc, not x86-64) -> a reason.
 */
import { spawnSync } from 'node:child_process';
import { buildOracle, notAmd } from '../native-oracle-build.js';

export interface OracleCase {
  code: Uint8Array;
  mxcsr: number;
  xmm0: Uint8Array;
  xmm1: Uint8Array;
  mm0: bigint;
  mm1: bigint;
  rax: bigint;
  flags: number;
}

export type OracleResult =
  | { kind: 'ok'; mxcsr: number; xmm0: Uint8Array; mm0: bigint; rax: bigint; flags: number }
  | { kind: 'xm'; mxcsr: number; xmm0: Uint8Array }
  | { kind: 'other'; what: string };

let built: string | undefined;
let why: string | undefined;

function oracle(): string | undefined {
  if (built || why) return built;
  const b = buildOracle('the SSE oracle', 'exec/native/sse-float-oracle.c');
  built = b.bin;
  why = b.why;
  return built;
}

/**
 * Why this host cannot serve as the reference, or undefined when it can: the semantics model the
 * AMD CPU they were established on (the RCP/RSQRT tables are its own, and the exception-priority
 * details were read from it), so another vendor's CPU is a visible skip, not a failure.
 */
export function oracleUnavailable(): string | undefined {
  oracle();
  if (why) return why;
  return notAmd('the SSE float semantics model an AMD CPU');
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function runOracle(cases: readonly OracleCase[]): OracleResult[] {
  const bin = oracle();
  if (!bin) throw new Error(why);
  const input = cases.map((c) =>
    `${hex(c.code)} ${c.mxcsr.toString(16)} ${hex(c.xmm0)} ${hex(c.xmm1)} ${c.mm0.toString(16)} ${c.mm1.toString(16)} ${c.rax.toString(16)} ${c.flags.toString(16)}`,
  ).join('\n') + '\n';
  const r = spawnSync(bin, [], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`SSE oracle exited ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== cases.length) throw new Error(`SSE oracle: ${lines.length} results for ${cases.length} cases`);
  return lines.map((line): OracleResult => {
    const f = line.split(' ');
    if (f[0] === 'OK') {
      return { kind: 'ok', mxcsr: parseInt(f[1], 16), xmm0: bytes(f[2]), mm0: BigInt('0x' + f[3]), rax: BigInt('0x' + f[4]), flags: parseInt(f[5], 16) };
    }
    if (f[0] === 'XM') return { kind: 'xm', mxcsr: parseInt(f[1], 16), xmm0: bytes(f[2]) };
    return { kind: 'other', what: line };
  });
}
