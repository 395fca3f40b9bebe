/**
 * Implicit operands of a few SSE forms: the DS:rDI destination of MASKMOVQ/MASKMOVDQU, and
 * general registers read or written at the mode's sizes (PCMPESTRx lengths, PCMPxSTRI's ECX).
 */
import { dataSegment } from '../exec/operands.js';
import { wrapAddress } from '../exec/address.js';
import type { Instruction } from '../instruction.js';
import type { VectorContext } from './context.js';

const TWO32 = 4294967296;

/**
 * The address in register reg (at the address size) with its default segment defSeg, or the
 * override (DS-relative operands only take one).
 */
export function addressOf(ctx: VectorContext, insn: Instruction, reg: number, defSeg: number): { seg: number; addr: number } {
  const r = ctx.regs;
  const raw = insn.addrSize === 8 ? r[(reg << 1) + 1]! * TWO32 + (r[reg << 1]! >>> 0) : r[reg << 1]!;
  return { seg: defSeg === 3 ? dataSegment(ctx, insn) : defSeg, addr: wrapAddress(raw, insn.addrSize) };
}

/** Register n as a signed length: 32 bits, or 64 with wide (exactness beyond 2^53 is not needed: lengths saturate). */
export function signedReg(ctx: VectorContext, n: number, wide: boolean): number {
  const lo = ctx.regs[n << 1]!;
  return wide ? ctx.regs[(n << 1) + 1]! * TWO32 + (lo >>> 0) : lo;
}

/** Writes a 32-bit value to register n, zeroing the upper half (as every 32-bit write in 64-bit mode). */
export function writeReg32(ctx: VectorContext, n: number, v: number): void {
  ctx.regs[n << 1] = v;
  ctx.regs[(n << 1) + 1] = 0;
}
