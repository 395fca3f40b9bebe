/**
 * Runs a floating-point form from the float module (src/x86/sse/float, written separately) over
 * a VectorContext, following that module's calling protocol (its index.ts): the form computes
 * from register/memory images and returns the MXCSR exception flags it raised; this side does
 * the checks, operand images, MXCSR update, #XM/#UD on an unmasked exception (destination
 * untouched), the x87 -> MMX transition the form asks for, and the commit.
 */
import { ARITH_FLAGS, X86Fault } from '../exec/context.js';
import { advance, effectiveAddress } from '../exec/address.js';
import { readGpr, writeGpr } from '../exec/regs.js';
import type { Instruction } from '../instruction.js';
import { checkAvailable, enterMmx, mmxSlot, Uses, writeMmx } from './context.js';
import type { VectorContext } from './context.js';
import { readMem } from './run-form.js';
import { copyBytes, Vec } from './vec.js';
import type { OperandKind as FloatOperandKind, SseFloatForm } from './float/form.js';

/** The float module's form description (src/x86/sse/float/form.ts), under the name this layer uses. */
export type FloatFormShape = SseFloatForm;

const CR4_OSXMMEXCPT = 1 << 10;
const MXCSR_MASK_SHIFT = 7;
const DST = new Vec(), SRC = new Vec(), OUT = new Vec();
const ENV = { mxcsr: 0 };

/** The float table's key: mandatory prefix, map, opcode; '/w1' for a REX.W form the table lists. */
export function floatKey(insn: Instruction, table: ReadonlyMap<string, FloatFormShape>): string {
  const prefix = insn.rep === 0xf3 ? 'f3' : insn.rep === 0xf2 ? 'f2' : insn.opsizePrefix ? '66' : '';
  const key = `${prefix}:${insn.map}:${insn.opcode.toString(16).padStart(2, '0')}`;
  return insn.rex & 8 && table.has(`${key}/w1`) ? `${key}/w1` : key;
}

function loadImage(ctx: VectorContext, insn: Instruction, kind: FloatOperandKind, n: number, gprBytes: number, v: Vec): void {
  v.zero();
  if (kind === 'xmm') v.u8.set(ctx.xmm[n]!);
  else if (kind === 'mmx') copyBytes(v.u8, mmxSlot(ctx, n & 7), 8);
  else {
    v.i32[0] = readGpr(ctx, n, 4, insn.rex);
    if (gprBytes === 8) v.i32[1] = ctx.regs[(n << 1) + 1]!;
  }
}

export function runFloatForm(ctx: VectorContext, insn: Instruction, form: FloatFormShape): void {
  const mem = insn.mod !== 3;
  if (mem && form.registerOnly) throw new X86Fault(6, undefined, `${form.mnemonic}: no memory form`);
  const transition = form.mmxTransition === 'always' || (form.mmxTransition === 'register' && !mem);
  checkAvailable(ctx, Uses.Xmm | (transition ? Uses.Mmx : 0), form.mnemonic);
  const gprBytes = form.gprBytes ?? 4;
  if (mem) {
    const seg = insn.mem!.seg;
    const addr = effectiveAddress(ctx, insn);
    const base = ctx.segBase?.[seg] ?? 0;
    const lin = ctx.mode === 64 ? (seg >= 4 ? addr + base : addr) : addr + base;
    if (form.aligned && (lin & 15) !== 0) { // int32 low bits: a double % compiles to an fmod call
      throw new X86Fault(13, 0, `${form.mnemonic}: memory operand 0x${addr.toString(16)} is not 16-byte aligned`);
    }
    readMem(ctx, seg, addr, form.memSize, SRC);
  } else {
    loadImage(ctx, insn, form.src, insn.rm, gprBytes, SRC);
  }
  loadImage(ctx, insn, form.dst, insn.reg, gprBytes, DST);
  OUT.zero();
  ENV.mxcsr = ctx.mxcsr;
  const raised = form.run(ENV, DST.u8, SRC.u8, insn.imm & 0xff, OUT.u8) & 0x3f;
  ctx.mxcsr |= raised;
  if (raised & ~(ctx.mxcsr >>> MXCSR_MASK_SHIFT)) {
    if (ctx.cr4 & CR4_OSXMMEXCPT) throw new X86Fault(19, undefined, `${form.mnemonic}: unmasked SIMD exception (MXCSR 0x${ctx.mxcsr.toString(16)})`);
    throw new X86Fault(6, undefined, `${form.mnemonic}: unmasked SIMD exception with CR4.OSXMMEXCPT clear`);
  }
  if (transition) enterMmx(ctx);
  if (form.writes === 'eflags') {
    ctx.flags = (ctx.flags & ~ARITH_FLAGS) | (OUT.u32[0]! & ARITH_FLAGS);
  } else if (form.dst === 'xmm') {
    ctx.xmm[insn.reg]!.set(OUT.u8);
  } else if (form.dst === 'mmx') {
    writeMmx(ctx, insn.reg & 7, OUT.u8);
  } else {
    writeGpr(ctx, insn.reg, gprBytes, insn.rex, OUT.i32[0]!, gprBytes === 8 ? OUT.i32[1]! : 0);
  }
  advance(ctx, insn);
}
