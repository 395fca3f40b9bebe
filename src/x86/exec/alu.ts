/**
 * The arithmetic/logic core with exact flags: ADD OR ADC SBB AND SUB XOR CMP (in ModRM.reg
 * order, so group 1 indexes it directly), INC, DEC, NEG. Operands are (lo, hi) pairs; for sizes
 * 1/2/4 the hi halves are ignored and lo holds the zero-extended (1/2) or int32 (4) value.
 * Each function records its flags (lazy-flags.ts) and returns the result lo with hi in half.hi.
 *
 * Logic ops clear CF, OF and AF (AF is "undefined" in the SDM; Intel and AMD hardware clear it).
 */
import type { ExecContext } from './context.js';
import { CF as CF_ } from './context.js';
import { carry, LF_ADD as LF_ADD_, LF_KEEP_CF as LF_KEEP_CF_, LF_LOGIC as LF_LOGIC_, LF_SUB as LF_SUB_, type FlagState } from './lazy-flags.js';
import { half, SIZE_MASK } from './regs.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const CF = CF_, LF_ADD = LF_ADD_, LF_KEEP_CF = LF_KEEP_CF_, LF_LOGIC = LF_LOGIC_, LF_SUB = LF_SUB_;
const ADD4 = LF_ADD | 4, SUB4 = LF_SUB | 4, LOGIC4 = LF_LOGIC | 4, ADD8 = LF_ADD | 8, SUB8 = LF_SUB | 8, LOGIC8 = LF_LOGIC | 8;
const SUB1 = LF_SUB | 1, LOGIC1 = LF_LOGIC | 1;

/**
 * The module-level names the per-size helpers below use, for compiled blocks that put a helper's
 * body in place of a call to it (src/backends/soft/helper-inline.ts).
 */
export const ALU_INLINE_SCOPE = { ADD4, SUB4, LOGIC4, ADD8, SUB8, LOGIC8, SUB1, LOGIC1, CF, LF_KEEP_CF, half, carry } as const;

export const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_SUB = 5, OP_XOR = 6, OP_CMP = 7;

// Per-size helpers: small and monomorphic, so the engine inlines them into their callers (the
// table handlers, the specialised forms and the compiled blocks all call these). Each records
// its flags lazily (lazy-flags.ts) and returns the result lo; 64-bit helpers leave hi in half.hi.

/** ADD/ADC, 32-bit: a + b + c. */
export function add32(ctx: FlagState, a: number, b: number, c: number): number {
  const r = (a + b + c) | 0;
  ctx.lfOp = ADD4; ctx.lfA = a; ctx.lfB = b; ctx.lfR = r;
  return r;
}

/** SUB/SBB/CMP, 32-bit: a - b - c. */
export function sub32(ctx: FlagState, a: number, b: number, c: number): number {
  const r = (a - b - c) | 0;
  ctx.lfOp = SUB4; ctx.lfA = a; ctx.lfB = b; ctx.lfR = r;
  return r;
}

/** AND/OR/XOR/TEST, 32-bit: records the result r. */
export function logic32(ctx: FlagState, r: number): number {
  ctx.lfOp = LOGIC4; ctx.lfR = r;
  return r;
}

/**
 * ADD/ADC, 64-bit: (a, ah) + (b, bh) + c. The carry out of the low halves is bit 31's
 * (a full adder's, from the operands' and the sum's top bits): int32 operations without a
 * branch, where the sum of the halves as uint32s made values past int32 that compiled blocks
 * first took for int32 and deoptimised on (`lost precision`).
 */
export function add64(ctx: FlagState, a: number, ah: number, b: number, bh: number, c: number): number {
  const lo = (a + b + c) | 0;
  const hi = (ah + bh + (((a & b) | ((a | b) & ~lo)) >>> 31)) | 0;
  ctx.lfOp = ADD8; ctx.lfA = a; ctx.lfAh = ah; ctx.lfB = b; ctx.lfBh = bh; ctx.lfR = lo; ctx.lfRh = hi;
  half.hi = hi;
  return lo;
}

/** SUB/SBB/CMP, 64-bit: (a, ah) - (b, bh) - c (the borrow out of the low halves as add64 finds its carry). */
export function sub64(ctx: FlagState, a: number, ah: number, b: number, bh: number, c: number): number {
  const lo = (a - b - c) | 0;
  const hi = (ah - bh - (((~a & b) | ((~a | b) & lo)) >>> 31)) | 0;
  ctx.lfOp = SUB8; ctx.lfA = a; ctx.lfAh = ah; ctx.lfB = b; ctx.lfBh = bh; ctx.lfR = lo; ctx.lfRh = hi;
  half.hi = hi;
  return lo;
}

/** AND/OR/XOR/TEST, 64-bit: records the result (r, rh). */
export function logic64(ctx: FlagState, r: number, rh: number): number {
  ctx.lfOp = LOGIC8; ctx.lfR = r; ctx.lfRh = rh;
  half.hi = rh;
  return r;
}

/** SUB/SBB/CMP, 8-bit (zero-extended operands). */
export function sub8(ctx: FlagState, a: number, b: number, c: number): number {
  const r = (a - b - c) & 0xff;
  ctx.lfOp = SUB1; ctx.lfA = a; ctx.lfB = b; ctx.lfR = r;
  return r;
}

/** AND/OR/XOR/TEST, 8-bit: records the result r (zero-extended). */
export function logic8(ctx: FlagState, r: number): number {
  ctx.lfOp = LOGIC1; ctx.lfR = r;
  return r;
}

/** ADD/ADC, 8/16-bit (zero-extended operands). */
function addSmall(ctx: FlagState, size: number, a: number, b: number, c: number): number {
  const r = (a + b + c) & SIZE_MASK[size]!;
  ctx.lfOp = LF_ADD | size; ctx.lfA = a; ctx.lfB = b; ctx.lfR = r;
  return r;
}

/** SUB/SBB/CMP, 16-bit (zero-extended operands; 8-bit: sub8). */
function subSmall(ctx: FlagState, size: number, a: number, b: number, c: number): number {
  const r = (a - b - c) & SIZE_MASK[size]!;
  ctx.lfOp = LF_SUB | size; ctx.lfA = a; ctx.lfB = b; ctx.lfR = r;
  return r;
}

/** a + b + carry with flags, any size. */
export function add(ctx: ExecContext, size: number, a: number, ah: number, b: number, bh: number, carry: number): number {
  if (size === 4) { half.hi = 0; return add32(ctx, a, b, carry); }
  if (size === 8) return add64(ctx, a, ah, b, bh, carry);
  half.hi = 0;
  return addSmall(ctx, size, a, b, carry);
}

/** a - b - borrow with flags, any size. */
export function sub(ctx: ExecContext, size: number, a: number, ah: number, b: number, bh: number, borrow: number): number {
  if (size === 4) { half.hi = 0; return sub32(ctx, a, b, borrow); }
  if (size === 8) return sub64(ctx, a, ah, b, bh, borrow);
  half.hi = 0;
  return size === 1 ? sub8(ctx, a, b, borrow) : subSmall(ctx, size, a, b, borrow);
}

/** Sets the flags of a logic result (CF = OF = AF = 0) and returns it. */
export function logicResult(ctx: ExecContext, size: number, lo: number, hi: number): number {
  if (size === 8) return logic64(ctx, lo, hi);
  half.hi = 0;
  if (size === 1) return logic8(ctx, lo);
  ctx.lfOp = LF_LOGIC | size; ctx.lfR = lo;
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
  (ctx, size, a, ah, b, bh) => add(ctx, size, a, ah, b, bh, carry(ctx)),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, carry(ctx)),
  (ctx, size, a, ah, b, bh) => logicResult(ctx, size, a & b, ah & bh),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, 0),
  (ctx, size, a, ah, b, bh) => logicResult(ctx, size, a ^ b, ah ^ bh),
  (ctx, size, a, ah, b, bh) => sub(ctx, size, a, ah, b, bh, 0),
];

/** One of the eight group-1 operations on (a, b); CMP computes flags and returns a (no write). */
export function alu(ctx: ExecContext, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  return ALU_OPS[op & 7]!(ctx, size, a, ah, b, bh);
}

/** INC/DEC, 32-bit: a + 1 or a - 1 with CF kept (in flagBits, LF_KEEP_CF). */
export function incDec32(ctx: FlagState, a: number, dec: boolean): number {
  ctx.flagBits = (ctx.flagBits & ~CF) | carry(ctx);
  const r = dec ? sub32(ctx, a, 1, 0) : add32(ctx, a, 1, 0);
  ctx.lfOp |= LF_KEEP_CF;
  return r;
}

/** INC/DEC, 64-bit (hi in half.hi). */
export function incDec64(ctx: FlagState, a: number, ah: number, dec: boolean): number {
  ctx.flagBits = (ctx.flagBits & ~CF) | carry(ctx);
  const r = dec ? sub64(ctx, a, ah, 1, 0, 0) : add64(ctx, a, ah, 1, 0, 0);
  ctx.lfOp |= LF_KEEP_CF;
  return r;
}

/** INC/DEC, any size: like ADD/SUB 1 but CF is preserved. */
export function incDec(ctx: ExecContext, size: number, a: number, ah: number, dec: boolean): number {
  if (size === 4) { half.hi = 0; return incDec32(ctx, a, dec); }
  if (size === 8) return incDec64(ctx, a, ah, dec);
  ctx.flagBits = (ctx.flagBits & ~CF) | carry(ctx);
  const r = dec ? sub(ctx, size, a, ah, 1, 0, 0) : add(ctx, size, a, ah, 1, 0, 0);
  ctx.lfOp |= LF_KEEP_CF;
  return r;
}

/** NEG: 0 - a; CF = (a != 0). */
export function neg(ctx: ExecContext, size: number, a: number, ah: number): number {
  return sub(ctx, size, 0, 0, a, ah, 0);
}
