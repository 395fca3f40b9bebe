/**
 * Stack primitives: push and pop at SS:rSP with the stack address size (ExecContext.stackSize).
 * The memory access happens before rSP is committed, so a faulting push/pop changes nothing.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { half } from './regs.js';

const TWO32 = 4294967296;
const RSP = 8; // regs index of RSP lo
const SEG_SS = 2;

/** The operand size of PUSH/POP/CALL/RET-style stack operations: 64-bit mode defaults to 8. */
export function stackOperandSize(ctx: ExecContext, insn: Instruction): number {
  if (ctx.mode === 64) return insn.opsizePrefix ? 2 : 8;
  return insn.opSize;
}

/** rSP + delta wrapped to the stack size, as (lo, hi) in spOut. */
export const spOut = { lo: 0, hi: 0, addr: 0 };
export function stackPointerPlus(ctx: ExecContext, delta: number): void {
  const r = ctx.regs;
  switch (ctx.stackSize) {
    case 8: {
      const l = (r[RSP] >>> 0) + delta;
      const carry = Math.floor(l / TWO32);
      spOut.lo = l | 0;
      spOut.hi = (r[RSP + 1] + carry) | 0;
      spOut.addr = spOut.hi * TWO32 + (spOut.lo >>> 0);
      return;
    }
    case 4:
      spOut.lo = (r[RSP] + delta) | 0;
      spOut.hi = 0;
      spOut.addr = spOut.lo >>> 0;
      return;
    default:
      spOut.lo = (r[RSP] & ~0xffff) | ((r[RSP] + delta) & 0xffff);
      spOut.hi = r[RSP + 1];
      spOut.addr = (r[RSP] + delta) & 0xffff;
  }
}

/** The current stack top address (SS offset). */
export function stackTop(ctx: ExecContext): number {
  stackPointerPlus(ctx, 0);
  return spOut.addr;
}

export function setStackPointer(ctx: ExecContext, lo: number, hi: number): void {
  if (ctx.stackSize === 4 && ctx.mode !== 64) hi = 0;
  ctx.regs[RSP] = lo;
  ctx.regs[RSP + 1] = hi;
}

/** Pushes (lo, hi) of size bytes: write first, then commit rSP. */
export function push(ctx: ExecContext, size: number, lo: number, hi: number): void {
  stackPointerPlus(ctx, -size);
  const nlo = spOut.lo, nhi = spOut.hi;
  ctx.write(SEG_SS, spOut.addr, size as 1 | 2 | 4 | 8, lo, hi);
  setStackPointer(ctx, nlo, nhi);
}

/** Reads the stack top (size bytes) without moving rSP; hi in half.hi. */
export function peek(ctx: ExecContext, size: number, offset = 0): number {
  stackPointerPlus(ctx, offset);
  const v = ctx.read(SEG_SS, spOut.addr, size as 1 | 2 | 4 | 8);
  half.hi = size === 8 ? ctx.memHi : 0;
  return v;
}

/** Pops size bytes: read first, then commit rSP (+ extra bytes, for RET imm16). */
export function pop(ctx: ExecContext, size: number, extra = 0): number {
  const v = peek(ctx, size), vh = half.hi;
  stackPointerPlus(ctx, size + extra);
  setStackPointer(ctx, spOut.lo, spOut.hi);
  half.hi = vh;
  return v;
}
