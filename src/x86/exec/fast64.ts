/**
 * The fast paths of 64-bit near branches and stack accesses, shared by the specialised closures
 * (specialise.ts) and the soft CPU's cold records (backends/soft/cold-code.ts). Each returns
 * false, having changed nothing, where its case is the handler's: RIP or RSP outside the ranges
 * where plain double arithmetic is exact and cannot wrap, or not 64-bit code.
 */
import type { ExecContext } from './context.js';
import { RIP_LO as RIP_LO_ } from './context.js';
import { canonicalHigh, checkedTarget } from './ops-control.js';

const RIP_LO = RIP_LO_;
const TWO32 = 4294967296, RSP = 8, SEG_SS = 2;

/**
 * Moves a 64-bit RIP's low half by offset where RIP is canonical and the move stays in its
 * 4 GiB (no carry into the high half, so the target is canonical too).
 */
export function stepRip64(ctx: ExecContext, offset: number): boolean {
  const r = ctx.regs, t = (r[RIP_LO]! >>> 0) + offset;
  if (ctx.mode !== 64 || t < 0 || t > 0xffffffff || !canonicalHigh(ctx.la57, r[RIP_LO + 1]!)) return false;
  r[RIP_LO] = t | 0;
  return true;
}

/**
 * The stack top's address where RSP is within 2^48 of zero either way (a canonical stack: exact
 * in a double, no wrap), or NaN. Accesses go through ctx as stack.ts push/pop's do, before RSP
 * moves, so a fault changes nothing.
 */
function stackTop(ctx: ExecContext): number {
  const r = ctx.regs, hi = r[RSP + 1]!;
  if (ctx.mode !== 64 || hi < -65536 || hi >= 65536) return NaN;
  return hi * TWO32 + (r[RSP]! >>> 0);
}

function setRsp(r: Int32Array, sp: number): void {
  r[RSP] = sp | 0; r[RSP + 1] = Math.floor(sp / TWO32) | 0;
}

/** PUSH of the 64-bit value (lo, hi). */
export function push64(ctx: ExecContext, lo: number, hi: number): boolean {
  const top = stackTop(ctx) - 8;
  if (top !== top) return false;
  ctx.write(SEG_SS, top, 8, lo, hi);
  setRsp(ctx.regs, top);
  return true;
}

/** POP into register d (a regs index); POP RSP ends with the popped value. */
export function pop64(ctx: ExecContext, d: number): boolean {
  const top = stackTop(ctx);
  if (top !== top) return false;
  const v = ctx.read(SEG_SS, top, 8), vh = ctx.memHi, r = ctx.regs;
  setRsp(r, top + 8);
  r[d] = v; r[d + 1] = vh;
  return true;
}

/**
 * CALL rel32: taken and next are the target's and the return address's offsets from RIP. push:
 * how the return address goes on the stack (a backend's faster PUSH with push64's contract).
 */
export function call64<C extends ExecContext>(ctx: C, taken: number, next: number, push: (ctx: C, lo: number, hi: number) => boolean = push64): boolean {
  const r = ctx.regs;
  const lo = r[RIP_LO]! >>> 0, hi = r[RIP_LO + 1]!, t = lo + taken, n = lo + next;
  if (ctx.mode !== 64 || t < 0 || t > 0xffffffff || n > 0xffffffff || !canonicalHigh(ctx.la57, hi)) return false;
  if (!push(ctx, n | 0, hi)) return false;
  r[RIP_LO] = t | 0;
  return true;
}

/**
 * CALL to the 64-bit address (lo, hi), an indirect near CALL's operand (read before the push, as
 * the CPU reads it): false, having changed nothing, where the target is not canonical (#GP: the
 * handler's case) or the return address, next bytes on, would carry into RIP's high half.
 */
export function callAbsolute64<C extends ExecContext>(ctx: C, lo: number, hi: number, next: number, push: (ctx: C, lo: number, hi: number) => boolean = push64): boolean {
  const r = ctx.regs;
  const rh = r[RIP_LO + 1]!, n = (r[RIP_LO]! >>> 0) + next;
  if (ctx.mode !== 64 || n > 0xffffffff || !canonicalHigh(ctx.la57, rh) || !canonicalHigh(ctx.la57, hi)) return false;
  if (!push(ctx, n | 0, rh)) return false;
  r[RIP_LO] = lo; r[RIP_LO + 1] = hi;
  return true;
}

/** RET: the return address checked as the handler checks it (#GP with RSP unchanged). */
export function ret64(ctx: ExecContext): boolean {
  const top = stackTop(ctx);
  if (top !== top) return false;
  const v = ctx.read(SEG_SS, top, 8), vh = ctx.memHi, r = ctx.regs;
  if (!canonicalHigh(ctx.la57, vh)) checkedTarget(ctx, v, vh, 8);
  setRsp(r, top + 8);
  r[RIP_LO] = v; r[RIP_LO + 1] = vh;
  return true;
}
