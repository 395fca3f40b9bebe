/**
 * Specialised forms (see specialise.ts) that only move data or RIP: the hint-space NOPs, MOVZX/
 * MOVSX and MOVSXD to 32/64-bit registers. Each does what its ops-move.ts handler does, with the
 * operand fields captured (the instruction object is not read on each run).
 */
import type { Instruction } from '../instruction.js';
import { addressOf, advanceBy } from './address.js';
import type { Compiled } from './compile.js';
import { byteRegister } from './regs.js';

/** An instruction that only moves RIP past itself (ops-move onlyAdvances). */
export function advanceOnly(insn: Instruction): Compiled {
  const len = insn.length;
  return (ctx) => { advanceBy(ctx, len); return true; };
}

/**
 * 0F B6/B7 MOVZX, 0F BE/BF MOVSX reg32/64, r/m8 or r/m16: a 32-bit destination is zero-extended
 * to 64 bits, a 64-bit one gets the sign (0 for MOVZX).
 */
export function movExtend(insn: Instruction, size: 4 | 8): Compiled {
  const len = insn.length, d = insn.reg << 1, byte = (insn.opcode & 1) === 0, signed = insn.opcode >= 0xbe;
  if (insn.mod === 3) {
    const { i: s, shift } = byte ? byteRegister(insn.rm, insn.rex) : { i: insn.rm << 1, shift: 0 };
    return (ctx) => { extendInto(ctx.regs, d, ctx.regs[s]! >> shift, byte, signed, size); advanceBy(ctx, len); return true; };
  }
  const m = insn.mem!, sg = m.seg, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  const srcSize = byte ? 1 : 2;
  return (ctx) => {
    extendInto(ctx.regs, d, ctx.read(sg, addressOf(ctx, ab, mb, mx, ms, md, len), srcSize), byte, signed, size);
    advanceBy(ctx, len);
    return true;
  };
}

/**
 * Register d (a regs index) = the low byte or word of x, sign- or zero-extended; a 32-bit
 * destination is zero-extended to 64 bits, a 64-bit one gets the sign (0 for MOVZX).
 */
export function extendInto(r: Int32Array, d: number, x: number, byte: boolean, signed: boolean, size: 4 | 8): void {
  const up = byte ? 24 : 16, y = x << up;
  const v = signed ? y >> up : y >>> up;
  r[d] = v; r[d + 1] = size === 8 && v < 0 ? -1 : 0;
}

/** 63 MOVSXD reg, r/m32 in 64-bit code (ARPL elsewhere: the handler declines it). */
export function movsxd(insn: Instruction, size: 4 | 8): Compiled | undefined {
  if (insn.mode !== 64) return undefined;
  const len = insn.length, d = insn.reg << 1;
  if (insn.mod === 3) {
    const s = insn.rm << 1;
    return (ctx) => {
      if (ctx.mode !== 64) return false;
      signExtendInto(ctx.regs, d, ctx.regs[s]!, size);
      advanceBy(ctx, len);
      return true;
    };
  }
  const m = insn.mem!, sg = m.seg, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  return (ctx) => {
    if (ctx.mode !== 64) return false;
    signExtendInto(ctx.regs, d, ctx.read(sg, addressOf(ctx, ab, mb, mx, ms, md, len), 4), size);
    advanceBy(ctx, len);
    return true;
  };
}

/** MOVSXD's result: register d (a regs index) = the int32 v, sign-extended to 64 bits or (size 4) zero-extended. */
export function signExtendInto(r: Int32Array, d: number, v: number, size: 4 | 8): void {
  r[d] = v; r[d + 1] = size === 8 ? v >> 31 : 0;
}
