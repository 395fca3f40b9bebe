/**
 * Differential test of the SSE/MMX layer (src/x86/sse) against this CPU: random instances of
 * every form in its table run natively through test/exec/native/sse-int-oracle.c and through
 * executeVector() over a flat context; general registers, arithmetic flags, XMM0-15, MM0-7 and
 * memory must match exactly, and faults must be the same (#UD; #GP alignment = SIGSEGV).
 * The x87 stack top is random before each case, so MMX register access through the x87
 * physical-register mapping is checked too. Seeded: TSVISOR_SEED=<n> reproduces a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { decode } from '../../src/x86/decoder/index.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import { executeVector } from '../../src/x86/sse/index.js';
import { Rng, testSeed } from '../exec/rng.js';
import { makeCases } from './cases.js';
import type { Case } from './cases.js';
import { MEM_BASE, oracleUnavailable, runNative } from './oracle.js';
import type { VectorResult } from './oracle.js';
import { FlatVectorContext } from './vector-context.js';

const CASES_PER_FORM = Number(process.env.TSVISOR_SSE_CASES ?? 60);
const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Decodes as the soft CPU does: bytes the decoder rejects are #UD. */
function decodeOrUd(bytes: Uint8Array): Instruction {
  try {
    return decode(bytes, 64);
  } catch (e) {
    if (e instanceof VmmError) throw new X86Fault(6, undefined, e.message);
    throw e;
  }
}

function compare(c: Case, want: VectorResult): string {
  const n = c.native;
  const ctx = new FlatVectorContext(n.mem.slice(), MEM_BASE);
  n.regs.forEach((v, i) => ctx.set(i, v));
  ctx.rip = 0x401000n;
  ctx.flags = n.flags;
  for (let i = 0; i < 16; i++) ctx.xmm[i]!.set(n.xmm.subarray(16 * i, 16 * i + 16));
  ctx.fsw = c.top << 11;
  for (let i = 0; i < 8; i++) ctx.mm(i).set(n.mm.subarray(8 * i, 8 * i + 8));
  let fault: X86Fault | undefined;
  let missing: string | undefined;
  try {
    missing = executeVector(ctx, decodeOrUd(n.bytes));
  } catch (e) {
    if (!(e instanceof X86Fault)) throw e;
    fault = e;
  }
  if (c.absent && fault?.vector !== 6) return `no form here, yet the layer ${fault ? `raised ${fault.message}` : 'ran it'}`;
  if (want.fault !== undefined) {
    if (want.fault === 'UD' && fault?.vector === 6) return '';
    if (want.fault === 'SEGV' && (fault?.vector === 13 || fault?.vector === 14)) return '';
    return `native ${want.fault}, layer ${fault ? fault.message : missing ?? 'completed'}`;
  }
  if (fault) return `layer faulted: ${fault.message}`;
  if (missing !== undefined) return `layer: '${missing}' not implemented`;
  const diffs: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (i !== 4 && ctx.get(i) !== want.regs[i]) diffs.push(`${NAMES[i]} got ${ctx.get(i).toString(16)} want ${want.regs[i]!.toString(16)}`);
  }
  if ((ctx.flags & 0x8d5) !== (want.flags & 0x8d5)) diffs.push(`flags got ${(ctx.flags & 0x8d5).toString(16)} want ${(want.flags & 0x8d5).toString(16)}`);
  for (let i = 0; i < 16; i++) {
    const w = want.xmm.subarray(16 * i, 16 * i + 16);
    if (hex(ctx.xmm[i]!) !== hex(w)) diffs.push(`xmm${i} got ${hex(ctx.xmm[i]!)} want ${hex(w)}`);
  }
  for (let i = 0; i < 8; i++) {
    const w = want.mm.subarray(8 * i, 8 * i + 8);
    if (hex(ctx.mm(i)) !== hex(w)) diffs.push(`mm${i} got ${hex(ctx.mm(i))} want ${hex(w)}`);
  }
  for (let k = 0; k < ctx.mem.length; k++) {
    if (ctx.mem[k] !== want.mem[k]) { diffs.push(`mem[${k}] got ${ctx.mem[k]!.toString(16)} want ${want.mem[k]!.toString(16)}`); break; }
  }
  if (ctx.rip !== 0x401000n + BigInt(n.bytes.length)) diffs.push(`rip not advanced past the instruction`);
  return diffs.join('; ');
}

test('SSE/MMX layer matches the host CPU on every form', { skip: oracleUnavailable() }, () => {
  const seed = testSeed();
  const cases = makeCases(new Rng(seed), CASES_PER_FORM);
  const results = runNative(cases.map((c) => c.native));
  const failures: string[] = [];
  const forms = new Set<string>();
  let alignmentFaults = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    forms.add(c.name);
    if (results[i]!.fault === 'SEGV') alignmentFaults++;
    const d = compare(c, results[i]!);
    if (d) failures.push(`${c.name} [${hex(c.native.bytes)}] top=${c.top}: ${d}`);
  }
  assert.ok(forms.size > 300, `only ${forms.size} forms covered`);
  assert.ok(alignmentFaults > 100, `only ${alignmentFaults} misaligned-operand cases`);
  assert.equal(failures.length, 0,
    `seed ${seed} (TSVISOR_SEED=${seed}): ${failures.length} of ${cases.length} cases differ:\n${failures.slice(0, 25).join('\n')}`);
});
