/**
 * Differential test of the executor against this CPU: random instances of each instruction
 * form (templates.ts) run natively through the oracle and through execute() over a flat
 * context; registers, arithmetic flags, DF, memory and RIP must match exactly.
 * Seeded: TSVISOR_SEED=<n> reproduces a run; the seed is printed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execute } from '../../src/x86/exec/index.js';
import { decode } from '../../src/x86/decoder/index.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { X86Fault } from '../../src/x86/exec/context.js';
import { encode, hexBytes } from './encode.js';
import type { Encoded } from './encode.js';
import { FlatContext } from './flat-context.js';
import { MEM_BASE, MEM_SIZE, STACK_RIP, oracleUnavailable, runNative } from './native-oracle.js';
import { IF } from '../../src/x86/exec/context.js';
import type { NativeCase, NativeResult } from './native-oracle.js';
import { Rng, testSeed } from './rng.js';
import { TEMPLATES } from './templates.js';
import type { Setup } from './templates.js';

const CASES_PER_FORM = Number(process.env.TSVISOR_EXEC_CASES ?? 24);
const RIP0 = 0x401000n;
const NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

interface Case { name: string; enc: Encoded; native: NativeCase }

function makeCases(rng: Rng): Case[] {
  const out: Case[] = [];
  for (const t of TEMPLATES) {
    for (const size of t.sizes) {
      for (let i = 0; i < CASES_PER_FORM; i++) {
        const mem = new Uint8Array(MEM_SIZE);
        for (let k = 0; k < MEM_SIZE; k++) mem[k] = rng.int(4) === 0 ? rng.pick([0, 0xff, 0x80, 0x7f]) : rng.int(256);
        const setup: Setup = { regs: new Array<bigint | null>(16).fill(null), flagsMask: 0x8d5, mem };
        const spec = t.make(size, rng, setup);
        const enc = encode(spec);
        const regs = setup.regs.map((v) => v ?? rng.value());
        if (!t.stack) regs[4] = 0n;
        const flags = (rng.int(0x1000) & setup.flagsMask) | 2;
        out.push({ name: `${t.name} (size ${size})`, enc, native: { bytes: enc.bytes, regs, flags, mem, stack: t.stack } });
      }
    }
  }
  return out;
}

/** Runs one case through execute(); returns a description of the first difference, or ''. */
function compare(c: Case, want: NativeResult, insn: Instruction = c.enc.insn): string {
  const ctx = new FlatContext(c.native.mem.slice(), MEM_BASE);
  c.native.regs.forEach((v, i) => ctx.set(i, v));
  const rip0 = c.native.stack ? BigInt(STACK_RIP) : RIP0;
  ctx.rip = rip0;
  ctx.flags = c.native.flags;
  if (c.native.stack) {
    ctx.cpl = 3; // the oracle runs as a Linux process: CPL 3, IOPL 0, IF set
    ctx.flags |= IF;
  }
  let fault: X86Fault | undefined;
  let handled = false;
  try {
    handled = execute(ctx, insn);
  } catch (e) {
    if (!(e instanceof X86Fault)) throw e;
    fault = e;
  }
  if (want.fault !== undefined) {
    if (want.fault === 'DE' && fault?.vector === 0) return '';
    return `native ${want.fault}, executor ${fault ? fault.message : handled ? 'completed' : 'not handled'}`;
  }
  if (fault) return `executor faulted: ${fault.message}`;
  if (!handled) return 'executor returned false';
  const diffs: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (ctx.get(i) !== want.regs[i]) diffs.push(`${NAMES[i]} got ${ctx.get(i).toString(16)} want ${want.regs[i].toString(16)}`);
  }
  if ((ctx.flags & 0xcd5) !== want.flags) diffs.push(`flags got ${(ctx.flags & 0xcd5).toString(16)} want ${want.flags.toString(16)}`);
  for (let k = 0; k < MEM_SIZE; k++) {
    if (ctx.mem[k] !== want.mem[k]) { diffs.push(`mem[${k}] got ${ctx.mem[k].toString(16)} want ${want.mem[k].toString(16)}`); break; }
  }
  const rep = c.enc.insn.rep !== 0 && c.enc.insn.opcode >= 0xa4 && c.enc.insn.opcode <= 0xaf;
  const wantRip = rip0 + BigInt(c.enc.insn.length);
  if (ctx.rip !== wantRip && !rep) diffs.push(`rip got ${ctx.rip.toString(16)} want ${wantRip.toString(16)}`);
  return diffs.join('; ');
}

const skip = oracleUnavailable();
if (skip) console.log(`# SKIP native differential test: ${skip}`);

function check(viaDecoder: boolean): void {
  const seed = testSeed();
  const rng = new Rng(seed);
  const cases = makeCases(rng);
  const results = runNative(cases.map((c) => c.native));
  const failures: string[] = [];
  const failedForms = new Set<string>();
  cases.forEach((c, i) => {
    let d: string;
    if (viaDecoder) {
      let insn: Instruction | undefined;
      try { insn = decode(c.enc.bytes, 64); } catch (e) { d = `decode failed: ${(e as Error).message}`; }
      d = insn ? compare(c, results[i], insn) : d!;
    } else {
      d = compare(c, results[i]);
    }
    if (d && !failedForms.has(c.name)) {
      failedForms.add(c.name);
      const n = c.native;
      failures.push(`${c.name} [${hexBytes(c.enc.bytes)}] in: ${n.regs.map((v, k) => `${NAMES[k]}=${v.toString(16)}`).join(' ')} flags=${n.flags.toString(16)}\n   ${d}`);
    }
  });
  assert.equal(failures.length, 0, `seed ${seed}: ${failures.length} forms differ of ${cases.length} cases:\n${failures.join('\n')}`);
}

test('executor matches this CPU on random instances of every covered form', { skip: skip ?? false }, () => {
  check(false);
});

test('decoder + executor match this CPU on the same instances', { skip: skip ?? false }, () => {
  check(true);
});
