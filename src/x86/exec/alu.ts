/**
 * The arithmetic/logic core with exact flags: ADD OR ADC SBB AND SUB XOR CMP (in ModRM.reg
 * order, so group 1 indexes it directly), INC, DEC, NEG. Operands are (lo, hi) pairs; for sizes
 * 1/2/4 the hi halves are ignored and lo holds the zero-extended (1/2) or int32 (4) value.
 * Each function sets ctx.flags and returns the result lo with hi in half.hi.
 *
 * Logic ops clear CF, OF and AF (AF is "undefined" in the SDM; Intel and AMD hardware clear it).
 */
import type { ExecContext } from './context.js';
import { AF as AF_, ARITH_FLAGS as ARITH_FLAGS_, CF as CF_, OF as OF_ } from './context.js';
import { szp } from './flags.js';
import { half, SIZE_MASK, SIZE_SIGN } from './regs.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const AF = AF_, ARITH_FLAGS = ARITH_FLAGS_, CF = CF_, OF = OF_;

export const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;

/** a + b + carry with flags. */
export function add(ctx: ExecContext, size: number, a: number, ah: number, b: number, bh: number, carry: number): number {
  let f: number, lo: number, hi = 0;
  if (size === 4) {
    // int32 arithmetic only: carry out of bit 31 = majority(a, b, carry into bit 31).
    lo = (a + b + carry) | 0;
    f = szp(lo, 0, 4) | (((a & b) | ((a | b) & ~lo)) >>> 31) | (((a ^ lo) & (b ^ lo)) < 0 ? OF : 0);
  } else if (size === 8) {
    const l = (a >>> 0) + (b >>> 0) + carry;
    const h = (ah >>> 0) + (bh >>> 0) + (l > 0xffffffff ? 1 : 0);
    lo = l | 0;
    hi = h | 0;
    f = szp(lo, hi, 8) | (h > 0xffffffff ? CF : 0) | (((ah ^ hi) & (bh ^ hi)) < 0 ? OF : 0);
  } else {
    const mask = SIZE_MASK[size];
    const ua = size === 4 ? a >>> 0 : a, ub = size === 4 ? b >>> 0 : b;
    const r = ua + ub + carry;
    lo = size === 4 ? r | 0 : r & mask;
    f = szp(lo, 0, size) | (r > mask ? CF : 0) | (((ua ^ lo) & (ub ^ lo) & SIZE_SIGN[size]) !== 0 ? OF : 0);
  }
  f |= (a ^ b ^ lo) & AF;
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
  half.hi = hi;
  return lo;
}

/** a - b - borrow with flags. */
export function sub(ctx: ExecContext, size: number, a: number, ah: number, b: number, bh: number, borrow: number): number {
  let f: number, lo: number, hi = 0;
  if (size === 4) {
    // int32 arithmetic only: borrow out of bit 31 = majority(~a, b, borrow into bit 31).
    lo = (a - b - borrow) | 0;
    f = szp(lo, 0, 4) | (((~a & b) | ((~a | b) & lo)) >>> 31) | (((a ^ b) & (a ^ lo)) < 0 ? OF : 0);
  } else if (size === 8) {
    const l = (a >>> 0) - (b >>> 0) - borrow;
    const h = (ah >>> 0) - (bh >>> 0) - (l < 0 ? 1 : 0);
    lo = l | 0;
    hi = h | 0;
    f = szp(lo, hi, 8) | (h < 0 ? CF : 0) | (((ah ^ bh) & (ah ^ hi)) < 0 ? OF : 0);
  } else {
    const mask = SIZE_MASK[size];
    const ua = size === 4 ? a >>> 0 : a, ub = size === 4 ? b >>> 0 : b;
    const r = ua - ub - borrow;
    lo = size === 4 ? r | 0 : r & mask;
    f = szp(lo, 0, size) | (r < 0 ? CF : 0) | (((ua ^ ub) & (ua ^ lo) & SIZE_SIGN[size]) !== 0 ? OF : 0);
  }
  f |= (a ^ b ^ lo) & AF;
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
  half.hi = hi;
  return lo;
}

/** Sets the flags of a logic result (CF = OF = AF = 0) and returns it. */
export function logicResult(ctx: ExecContext, size: number, lo: number, hi: number): number {
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | szp(lo, hi, size);
  half.hi = size === 8 ? hi : 0;
  return lo;
}

/** A group-1 operation on (a, b) at size: sets the flags, returns the result (hi in half.hi). */
export type AluOp = (ctx: ExecContext, size: number, a: number, ah: number, b: number, bh: number) => number;

/**
 * The eight group-1 operations in ModRM.reg order; CMP computes flags and returns a (no write).
 * Specialised code (specialise.ts) picks one at decode time instead of dispatching per run.
 */
export const ALU_OPS: readonly AluOp[] = [
  (ctx, size, a, ah, b, bh) => add(ctx, size, a, ah, b, bh, 0),
  (ctx, size, a, ah, b, bh) => logicResult(ctx, size, a | b, ah | bh),
  (ctx, size, a, ah, b, bh) => add(ctx, size, a, ah, b, bh, ctx.flags & CF),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, ctx.flags & CF),
  (ctx, size, a, ah, b, bh) => logicResult(ctx, size, a & b, ah & bh),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, 0),
  (ctx, size, a, ah, b, bh) => logicResult(ctx, size, a ^ b, ah ^ bh),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, 0),
];

/** One of the eight group-1 operations on (a, b); CMP computes flags and returns a (no write). */
export function alu(ctx: ExecContext, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  return ALU_OPS[op & 7]!(ctx, size, a, ah, b, bh);
}

/** INC/DEC: like ADD/SUB 1 but CF is preserved. */
export function incDec(ctx: ExecContext, size: number, a: number, ah: number, dec: boolean): number {
  const cf = ctx.flags & CF;
  const r = dec ? sub(ctx, size, a, ah, 1, 0, 0) : add(ctx, size, a, ah, 1, 0, 0);
  ctx.flags = (ctx.flags & ~CF) | cf;
  return r;
}

/** NEG: 0 - a; CF = (a != 0). */
export function neg(ctx: ExecContext, size: number, a: number, ah: number): number {
  return sub(ctx, size, 0, 0, a, ah, 0);
}
