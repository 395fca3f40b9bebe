/**
 * Compiled blocks with inlined forms (src/backends/soft/block-inline.ts, block-compile.ts)
 * against the same instructions run one at a time through their compiled closures (the
 * interpreter tier): random straight-line sequences of the inlined register, memory and stack
 * forms mixed with closure-run forms (16-bit operands, zero shift counts, read-modify-write
 * memory), with memory operands that hit the data window or fault, in 32- and
 * 64-bit code, often ending in a Jcc, from random registers and flags, with RIP sometimes at the
 * top of a 4 GiB region (carries into RIP's high half). Registers, RIP, RFLAGS, the retired count,
 * the block's return value and any fault must match. Seeded; the seed prints on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../src/x86/decoder/index.js';
import { compile, type Compiled } from '../../src/x86/exec/compile.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { RIP_LO } from '../../src/x86/exec/context.js';
import { blockFunctionText, compileBlock, settleDecline, type BlockFn } from '../../src/backends/soft/block-compile.js';
import { inlineInsn, recordAfter } from '../../src/backends/soft/block-inline.js';
import * as lazyFlags from '../../src/x86/exec/lazy-flags.js';
import { condition } from '../../src/x86/exec/flags.js';
import type { SoftCpu } from '../../src/backends/soft/cpu.js';
import { P_RS, P_RU, P_WS, P_WU, Tlb, TLB_MASK } from '../../src/backends/soft/tlb.js';
import { FlatContext } from '../exec/flat-context.js';
import { Rng, testSeed } from '../exec/rng.js';

const ROUNDS = Number(process.env.TSVISOR_BLOCK_FUZZ ?? 3000);
const WINDOW = 0x1000, WINDOW_BASE = 0x10000;

/**
 * FlatContext plus what a block function reads from the soft CPU: flat segments and a TLB that
 * is empty (the first inlined access declines: its closure and the rest of the block run through
 * read/write, logged and compared with the reference's accesses) or maps the data window's page
 * (accesses inside it hit the probe and touch the window's bytes directly: the bytes are
 * compared).
 */
class BlockContext extends FlatContext {
  codeGen = 0;
  instret = 0;
  readonly tlb = new Tlb();
  readonly segBase = new Float64Array(8);
  readonly segReadMax = new Float64Array(6).fill(0xffffffff);
  readonly segWriteMax = new Float64Array(6).fill(0xffffffff);
}

const ALU_ROWS = [0x01, 0x03, 0x09, 0x0b, 0x11, 0x13, 0x19, 0x1b, 0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b];
const ACC_IMM = [0x05, 0x0d, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0xa9];

function imm32(rng: Rng): number[] {
  const v = rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, rng.int(256), (rng.next() * 2 ** 32) >>> 0]);
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

/** One instruction's bytes: mostly inlinable forms, some that run through their closure. */
function insnBytes(rng: Rng, mode: 32 | 64): number[] {
  const pre: number[] = [];
  if (mode === 64 && rng.int(2) === 0) pre.push(0x40 | rng.int(16));
  else if (rng.int(16) === 0) pre.push(0x66);
  const reg = (): number => 0xc0 | rng.int(64);
  switch (rng.int(22)) {
    case 0: case 1: case 2: return [...pre, rng.pick(ALU_ROWS), reg()];
    case 3: return [...pre, rng.pick(ACC_IMM), ...imm32(rng)];
    case 4: return [...pre, 0x81, reg(), ...imm32(rng)];
    case 5: return [...pre, 0x83, reg(), rng.int(256)];
    case 6: return mode === 32 ? [0x40 | rng.int(16)] : [...pre, 0xff, 0xc0 | rng.int(16)];
    case 7: return [...pre, rng.pick([0x89, 0x8b, 0x85]), reg()];
    case 8: return [...pre, 0xb8 | rng.int(8), ...imm32(rng), ...(pre[0]! & 8 ? imm32(rng) : [])];
    case 9: return [...pre, 0xc7, 0xc0 | rng.int(8), ...imm32(rng)];
    case 10: return [...pre, 0x0f, rng.pick([0xb6, 0xb7]), reg()];
    case 11: {
      // LEA with a random ModRM/SIB/displacement (67 sometimes: 32-bit addresses in 64-bit code).
      const a = rng.int(4) === 0 ? [0x67] : [];
      return [...a, ...pre, 0x8d, rng.int(3) << 6 | rng.int(64), rng.int(256), ...imm32(rng)];
    }
    case 12: {
      const op = rng.pick([0xc1, 0xd1, 0x6b, 0x69, 0xaf]);
      if (op === 0xaf) return [...pre, 0x0f, 0xaf, reg()];
      return [...pre, op, reg(), ...(op === 0x69 ? imm32(rng) : [rng.pick([0, 1, 31, 32, 33, 63, rng.int(256)])])];
    }
    case 13: return [...pre, rng.pick([0x50, 0x58]) | rng.int(8)];
    case 14: return [...pre, 0x0f, rng.pick([0x40 | rng.int(16), 0x90 | rng.int(16), 0xbe, 0xbf]), reg()];
    // MOVSXD is 64-bit only (0x63 is ARPL elsewhere).
    case 15: return mode === 64 ? [...pre, 0x63, reg()] : [...pre, 0x0f, 0x40 | rng.int(16), reg()];
    // Byte CMP/TEST of registers and immediates (high-byte registers without REX).
    case 16: switch (rng.int(5)) {
      case 0: return [...pre, rng.pick([0x38, 0x3a, 0x84]), reg()];
      case 1: return [...pre, 0x80, 0xf8 | rng.int(8), rng.int(256)];
      case 2: return [...pre, 0xf6, 0xc0 | rng.int(16), rng.int(256)];
      default: return [...pre, rng.pick([0x3c, 0xa8]), rng.int(256)];
    }
    // Group 2 by CL (every /digit; CL as setup leaves it, and MOV CL, imm8 / MOV ECX, imm: case 8), F7 /0-/3 on registers.
    case 18: {
      if (rng.int(2) === 0) return [...pre, 0xd3, reg()];
      const m = 0xc0 | rng.int(32);
      return [...pre, 0xf7, m, ...(m < 0xd0 ? imm32(rng) : [])];
    }
    // NOP (90; with REX.B it is XCHG r8, rAX), PAUSE, multi-byte NOP with a register or memory operand.
    case 17: return rng.pick([[...pre, 0x90], [0xf3, 0x90], [...pre, 0x0f, 0x1f, rng.int(256), rng.int(256), 0, 0, 0, 0]]);
    default: {
      // Memory operands: ModRM mod 0-2 with SIB and displacement bytes (RIP-relative and
      // absolute forms included); the base registers often point into the data window.
      // (The byte after ModRM, a SIB or a disp8, is a multiple of 8 half the time: aligned accesses.)
      const modrm = (reg: number): number[] => [rng.int(3) << 6 | reg << 3 | rng.int(8), rng.int(2) === 0 ? rng.int(256) : rng.int(32) * 8, rng.int(4) === 0 ? rng.int(256) : 0, 0, 0, 0];
      switch (rng.int(8)) {
        case 0: return [...pre, 0xc7, ...modrm(0).slice(0, 2), 0, 0, 0, 0, ...imm32(rng)];
        // CMP with an immediate; INC/DEC, sometimes GS-relative (the preempt count's shape).
        case 1: return rng.int(2) === 0 ? [...pre, rng.pick([0x81, 0x83]), ...modrm(7)] : [...(rng.int(3) === 0 ? [0x65] : []), ...pre, 0xff, ...modrm(rng.int(2))];
        case 2: return [...pre, 0x0f, rng.pick([0xb6, 0xb7, 0x40 | rng.int(16)]), ...modrm(rng.int(8))];
        case 3: return [...pre, mode === 64 ? 0x63 : 0x8b, ...modrm(rng.int(8))];
        // Byte MOV stores, CMP and TEST with memory; the 16-bit MOV store.
        case 6: return [...pre, rng.pick([0x88, 0x38, 0x3a, 0x84]), ...modrm(rng.int(8))];
        case 7: return rng.pick([[...pre, 0x80, ...modrm(7).slice(0, 2), 0, 0, 0, 0, rng.int(256)], [...pre, rng.pick([0xf6, 0xc6]), ...modrm(0).slice(0, 2), 0, 0, 0, 0, rng.int(256)], [0x66, 0x89, ...modrm(rng.int(8))]]);
        default: return [...pre, rng.pick([0x89, 0x8b, 0x03, 0x2b, 0x39, 0x85, 0x3b, 0x13, 0x0b, 0x01]), ...modrm(rng.int(8))];
      }
    }
  }
}

/** A block-ending CALL rel32, RET, RET imm16, CALL reg or JMP reg (closures with a register footprint). */
function transferBytes(rng: Rng, mode: 32 | 64): number[] {
  const rex = mode === 64 && rng.int(2) === 0 ? [0x40 | rng.int(2)] : [];
  switch (rng.int(5)) {
    case 0: return [0xe8, ...imm32(rng)];
    case 1: return [0xc3];
    case 2: return [0xc2, rng.int(4) * 8, 0];
    case 3: return [...rex, 0xff, 0xd0 | rng.int(8)];
    default: return [...rex, 0xff, 0xe0 | rng.int(8)];
  }
}

/** A block-ending Jcc or JMP (rel8 or rel32), a third of them back to the block's start. */
function jccBytes(rng: Rng, back: number): number[] {
  const jmp = rng.int(4) === 0;
  if (rng.int(2) === 0) return [jmp ? 0xeb : 0x70 | rng.int(16), rng.int(3) === 0 ? (-back - 2) & 0xff : rng.int(256)];
  const len = jmp ? 5 : 6;
  const rel = rng.int(3) === 0 ? -back - len : rng.int(2) === 0 ? rng.int(0x10000) - 0x8000 : (rng.next() * 2 ** 32) | 0;
  return [...(jmp ? [0xe9] : [0x0f, 0x80 | rng.int(16)]), rel & 0xff, (rel >>> 8) & 0xff, (rel >>> 16) & 0xff, rel >>> 24];
}

/** Decodes a random block; undefined when a byte string did not decode. */
function randomBlock(rng: Rng, mode: 32 | 64): Instruction[] | undefined {
  const insns: Instruction[] = [];
  const count = 1 + rng.int(12);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 && rng.int(3) !== 0;
    const end = i === count - 1 && rng.int(4) === 0 ? transferBytes(rng, mode) : undefined;
    const b = Uint8Array.from(end ?? (last ? jccBytes(rng, bytes) : insnBytes(rng, mode)));
    const padded = new Uint8Array(15);
    padded.set(b.subarray(0, 15));
    let insn: Instruction;
    try {
      insn = decode(padded, mode);
    } catch {
      return undefined;
    }
    insns.push(insn);
    bytes += insn.length;
  }
  return insns;
}

function setup(ctx: BlockContext, rng: Rng, mode: 32 | 64, regs: Int32Array, flags: number, ripLo: number, ripHi: number): void {
  ctx.mode = mode;
  ctx.stackSize = mode === 64 ? 8 : 4;
  ctx.regs.set(regs);
  ctx.regs[RIP_LO] = ripLo;
  ctx.regs[RIP_LO + 1] = ripHi;
  ctx.flags = flags;
  void rng;
}

/** Maps the window's page in ctx's TLB (every right, the window's bytes as the page). */
function mapWindow(ctx: BlockContext): void {
  const m = ctx.mem, page = WINDOW_BASE / 4096;
  const b = m.buffer;
  const buffer = { u8: new Uint8Array(b), u16: new Uint16Array(b, 0, b.byteLength >>> 1), i32: new Int32Array(b, 0, b.byteLength >>> 2) };
  ctx.tlb.useMemory(buffer);
  ctx.tlb.fill(page & TLB_MASK, page, P_RS | P_RU | P_WS | P_WU, page, { u8: m, buffer }, 0, false);
}

/**
 * Runs the block function as the run loop does (one pass: budget = the block's length): an
 * instruction it declines runs through its closure, and so does the rest of the block (the run
 * loop would go on with the block that starts there).
 */
function runLikeTheLoop(fn: BlockFn, ctx: BlockContext, insns: readonly Instruction[], fns: readonly Compiled[]): string {
  const before = ctx.instret;
  const r = fn(ctx as unknown as SoftCpu, fns.length, 0);
  if (r >= 0) return `returned ${r}`;
  for (let k = settleDecline(ctx, insns, before, r); k < fns.length; k++) {
    if (!fns[k]!(ctx)) return `declined ${k}`;
    ctx.instret++;
  }
  return `returned ${fns.length}`;
}

function outcome(ctx: BlockContext, result: string, hits: boolean): string {
  const memory = hits ? Buffer.from(ctx.mem).toString('hex') : JSON.stringify(ctx.log);
  return `${result}|retired ${ctx.instret}|${ctx.regs.join()}|${ctx.flags}|${memory}`;
}

/** Whether this process may generate code from strings (not under --disallow-code-generation-from-strings). */
function codegenAllowed(): boolean {
  try {
    return new Function('return true')() as boolean;
  } catch {
    return false;
  }
}

test('compiled blocks with inlined forms match the closures run one at a time', { skip: codegenAllowed() ? false : 'code generation from strings is disallowed: blocks run uncompiled' }, () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  let compared = 0, inlinedLoops = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const mode = rng.pick([32, 64] as const);
    const insns = randomBlock(rng, mode);
    if (insns === undefined) continue;
    const fns = insns.map((i) => compile(i));
    const fn = compileBlock(insns, fns);
    assert.ok(fn !== undefined, 'code generation is allowed in this test process');
    const regs = new Int32Array(34);
    for (let i = 0; i < 32; i++) {
      // Some registers point into the data window, so stores both succeed and fault.
      // Half of those are 8-byte aligned, so that aligned accesses take the probe's fast path.
      const inWindow = WINDOW_BASE + (rng.int(2) === 0 ? rng.int(WINDOW) : rng.int(WINDOW / 8) * 8);
      regs[i] = i % 2 === 1 ? (mode === 64 && rng.int(4) === 0 ? -1 : 0) : rng.int(3) === 0 ? inWindow : (rng.next() * 2 ** 32) | 0;
    }
    // Shift counts in CL that mask to 0 or 1 now and then (group 2 by CL).
    if (rng.int(4) === 0) regs[2] = (regs[2]! & ~0xff) | rng.pick([0, 1, 32, 33, 64]);
    const flags = (rng.int(0x1000) & 0x8d5) | 2;
    const ripLo = rng.int(3) === 0 ? (0xfffff000 + rng.int(0x100)) | 0 : 0x401000 + rng.int(0x100);
    const ripHi = mode === 64 ? rng.pick([0, 0x7fff, -1]) : 0;

    const hits = rng.int(2) === 0;
    const window = Uint8Array.from({ length: WINDOW }, () => rng.int(256));
    const ref = new BlockContext(window.slice(), WINDOW_BASE);
    setup(ref, rng, mode, regs, flags, ripLo, ripHi);
    let refResult = `returned ${insns.length}`;
    try {
      for (let k = 0; k < insns.length; k++) {
        if (!fns[k]!(ref)) { refResult = `declined ${k}`; break; }
        ref.instret++;
      }
    } catch (e) {
      refResult = `threw ${(e as Error).message}`;
    }

    const blk = new BlockContext(window.slice(), WINDOW_BASE);
    setup(blk, rng, mode, regs, flags, ripLo, ripHi);
    if (hits) mapWindow(blk);
    let blkResult: string;
    try {
      blkResult = runLikeTheLoop(fn, blk, insns, fns);
    } catch (e) {
      blkResult = `threw ${(e as Error).message}`;
    }
    if (refResult.startsWith('returned') && blk.regs[RIP_LO] === ripLo && blk.regs[RIP_LO + 1] === ripHi) inlinedLoops++;
    assert.equal(outcome(blk, blkResult, hits), outcome(ref, refResult, hits),
      `seed ${seed} round ${round} mode ${mode}: ${insns.map((i) => i.mnemonic).join('; ')}`);
    compared++;
  }
  assert.ok(compared > ROUNDS / 2, `only ${compared} of ${ROUNDS} blocks decoded (seed ${seed})`);
  assert.ok(inlinedLoops > 0, `no block branched back to its start (seed ${seed})`);
});

/** The record condition (lazy-flags RECORD_CONDITIONS) of record kind `record` for cc on ctx's record, as a block runs it. */
function recordCondition(ctx: BlockContext, record: number, cc: number): boolean | undefined {
  const cond = lazyFlags.RECORD_CONDITIONS[record & ~(lazyFlags.LF_KEEP_CF | lazyFlags.LF_KEEP_OF)];
  if (cond === undefined) return undefined;
  const fn = (lazyFlags as unknown as Record<string, (...a: number[]) => boolean>)[cond.name]!;
  return fn(cc, ...cond.args.map((a) => (a === 'kept' ? record : ctx[a])));
}

test('recordAfter: the record a block assumes after an inlined form decides every condition as the flags do', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  let checked = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const mode = rng.pick([32, 64] as const);
    const insns = randomBlock(rng, mode);
    if (insns === undefined) continue;
    const ctx = new BlockContext(Uint8Array.from({ length: WINDOW }, () => rng.int(256)), WINDOW_BASE);
    const regs = Int32Array.from({ length: 34 }, (_, i) => (i % 2 === 1 ? rng.pick([0, -1, rng.int(2 ** 31)]) : rng.int(3) === 0 ? WINDOW_BASE + rng.int(WINDOW) : (rng.next() * 2 ** 32) | 0));
    setup(ctx, rng, mode, regs, (rng.int(0x1000) & 0x8d5) | 2, 0x401000, 0);
    // What a block knows, instruction by instruction, as blockStatements tracks it.
    let record: number | undefined;
    for (const insn of insns) {
      const inlined = inlineInsn(insn, 'I', insn.length) !== undefined;
      try {
        if (!compile(insn)(ctx)) break;
      } catch {
        break;
      }
      record = inlined ? recordAfter(insn, record) : undefined;
      if (record === undefined) continue;
      for (let cc = 0; cc < 16; cc++) {
        if (cc >> 1 === 5) continue;
        const known = recordCondition(ctx, record, cc);
        if (known === undefined) continue;
        assert.equal(known, condition(ctx.flags, cc), `seed ${seed} round ${round}: cc ${cc} after ${insn.mnemonic} (record 0x${record.toString(16)}, lfOp 0x${ctx.lfOp.toString(16)}) in ${insns.map((i) => i.mnemonic).join('; ')}`);
        checked++;
      }
    }
  }
  assert.ok(checked > ROUNDS, `only ${checked} conditions checked (seed ${seed})`);
});

test('a block function loops only when its last branch goes back to its own start', () => {
  const block = (hex: string[]) => hex.map((h) => decode(Uint8Array.from(Buffer.from(h.padEnd(30, '0'), 'hex')), 64, 0));
  // dec ecx (2 bytes); jnz -4: back to the DEC, the block's start.
  assert.match(blockFunctionText(block(['ffc9', '75fc']), true), /for \(;;\)/);
  // dec ecx; jnz +16 (elsewhere), and jnz -6 (before the block): straight-line, one pass.
  assert.doesNotMatch(blockFunctionText(block(['ffc9', '7510']), true), /for \(;;\)/);
  assert.doesNotMatch(blockFunctionText(block(['ffc9', '75fa']), true), /for \(;;\)/);
  // dec ecx; loop -4 (E2): LOOP goes back as Jcc does.
  assert.match(blockFunctionText(block(['ffc9', 'e2fc']), true), /for \(;;\)/);
});
