/**
 * Differential test in 32-bit code: random instances run natively in compatibility mode (the
 * oracle far-returns to Linux's 32-bit user code segment) and through decode(…, 32) + execute().
 * Covers what 64-bit mode cannot: DAA DAS AAA AAS AAM AAD, INC/DEC 40-4F, and the common ALU,
 * shift, multiply/divide and bit-scan forms at 16/32-bit operand size in 32-bit code.
 * Compared: EAX..EDI (ESP excluded), the arithmetic flags, memory. Seed printed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { execute } from '../../src/x86/exec/index.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import { hexBytes } from './encode.js';
import { FlatContext } from './flat-context.js';
import { MEM_BASE, MEM_SIZE, compatUnavailable, runNative } from './native-oracle.js';
import type { NativeCase, NativeResult } from './native-oracle.js';
import { Rng, testSeed } from './rng.js';

const CASES_PER_FORM = Number(process.env.TSVISOR_EXEC_CASES ?? 24) * 2;
const NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const REGS = [0, 1, 2, 3, 5, 6, 7];

interface Form { name: string; make(rng: Rng, regs: bigint[]): number[] }

const modrm = (reg: number, rm: number): number => 0xc0 | (reg << 3) | rm;
const sizePrefix = (rng: Rng): number[] => (rng.int(2) ? [0x66] : []);

const FORMS: Form[] = [
  ...[0x27, 0x2f, 0x37, 0x3f].map((op) => ({ name: `bcd ${op.toString(16)}`, make: () => [op] })),
  { name: 'aam', make: (rng: Rng) => [0xd4, rng.int(8) === 0 ? 0 : rng.int(4) === 0 ? 10 : rng.int(256)] },
  { name: 'aad', make: (rng: Rng) => [0xd5, rng.int(4) === 0 ? 10 : rng.int(256)] },
  { name: 'inc/dec r', make: (rng: Rng) => [...sizePrefix(rng), rng.pick([0x40, 0x48]) + rng.pick(REGS)] },
  { name: 'alu r/m,r', make: (rng: Rng) => [...sizePrefix(rng), rng.int(8) * 8 + 1, modrm(rng.pick(REGS), rng.pick(REGS))] },
  { name: 'shift r/m,CL', make: (rng: Rng, regs: bigint[]) => {
    regs[1] = BigInt(rng.int(40));
    return [...sizePrefix(rng), 0xd3, modrm(rng.int(8), rng.pick([0, 2, 3, 5, 6, 7]))];
  } },
  { name: 'mul/div', make: (rng: Rng, regs: bigint[]) => {
    if (rng.int(2)) regs[2] = BigInt(rng.int(3));
    return [...sizePrefix(rng), 0xf7, modrm(4 + rng.int(4), rng.pick([1, 3, 5, 6, 7]))];
  } },
  { name: 'imul r,r/m', make: (rng: Rng) => [...sizePrefix(rng), 0x0f, 0xaf, modrm(rng.pick(REGS), rng.pick(REGS))] },
  { name: 'bsf/bsr', make: (rng: Rng) => [...sizePrefix(rng), 0x0f, rng.pick([0xbc, 0xbd]), modrm(rng.pick(REGS), rng.pick(REGS))] },
  { name: 'shld/shrd CL', make: (rng: Rng, regs: bigint[]) => {
    regs[1] = BigInt(rng.int(40));
    return [...sizePrefix(rng), 0x0f, rng.pick([0xa5, 0xad]), modrm(rng.pick(REGS), rng.pick([0, 2, 3, 5, 6, 7]))];
  } },
  { name: 'movs/stos/lods', make: (rng: Rng, regs: bigint[]) => {
    regs[6] = BigInt(MEM_BASE + 96 + rng.int(64));
    regs[7] = BigInt(MEM_BASE + 96 + rng.int(64));
    regs[1] = BigInt(rng.int(9));
    return [...(rng.int(2) ? [0xf3] : []), rng.pick([0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad, 0xa6, 0xaf])];
  } },
];

function run(c: NativeCase, want: NativeResult): string {
  const ctx = new FlatContext(c.mem.slice(), MEM_BASE);
  ctx.mode = 32;
  ctx.stackSize = 4;
  c.regs.forEach((v, i) => ctx.set(i, v));
  ctx.rip = 0x401000n;
  ctx.flags = c.flags;
  let fault: X86Fault | undefined, handled = false;
  try {
    handled = execute(ctx, decode(c.bytes, 32));
  } catch (e) {
    if (!(e instanceof X86Fault)) return `threw ${(e as Error).message}`;
    fault = e;
  }
  if (want.fault !== undefined) return want.fault === 'DE' && fault?.vector === 0 ? '' : `native ${want.fault}, executor ${fault?.message ?? handled}`;
  if (fault) return `executor faulted: ${fault.message}`;
  if (!handled) return 'executor returned false';
  const d: string[] = [];
  for (const i of REGS) {
    const got = ctx.get(i) & 0xffff_ffffn, exp = want.regs[i] & 0xffff_ffffn;
    if (got !== exp) d.push(`${NAMES[i]} got ${got.toString(16)} want ${exp.toString(16)}`);
  }
  if ((ctx.flags & 0xcd5) !== want.flags) d.push(`flags got ${(ctx.flags & 0xcd5).toString(16)} want ${want.flags.toString(16)}`);
  for (let k = 0; k < MEM_SIZE; k++) if (ctx.mem[k] !== want.mem[k]) { d.push(`mem[${k}] differs`); break; }
  return d.join('; ');
}

const skip = compatUnavailable();
if (skip) console.log(`# SKIP 32-bit native differential test: ${skip}`);

test('decoder + executor match this CPU in 32-bit code (BCD, INC/DEC short forms, 16/32-bit ALU)', { skip: skip ?? false }, () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const cases: { name: string; c: NativeCase }[] = [];
  for (const f of FORMS) {
    for (let i = 0; i < CASES_PER_FORM; i++) {
      const regs = new Array<bigint>(16).fill(0n).map(() => rng.value() & 0xffff_ffffn);
      regs[4] = 0n;
      const bytes = Uint8Array.from(f.make(rng, regs));
      const mem = new Uint8Array(MEM_SIZE).map(() => rng.int(256));
      cases.push({ name: f.name, c: { bytes, regs, flags: (rng.int(0x1000) & 0xcd5) | 2, mem, compat: true } });
    }
  }
  const results = runNative(cases.map((x) => x.c));
  const failures: string[] = [];
  const seen = new Set<string>();
  cases.forEach((x, i) => {
    const d = run(x.c, results[i]);
    if (d && !seen.has(x.name)) {
      seen.add(x.name);
      failures.push(`${x.name} [${hexBytes(x.c.bytes)}] in: ${REGS.map((k) => `${NAMES[k]}=${x.c.regs[k].toString(16)}`).join(' ')} flags=${x.c.flags.toString(16)}\n   ${d}`);
    }
  });
  assert.equal(failures.length, 0, `seed ${seed}: ${failures.length} forms differ of ${cases.length} cases:\n${failures.join('\n')}`);
});
