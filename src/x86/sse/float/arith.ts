/**
 * The IEEE operations on one lane, exact: the true result is formed with integer significands
 * (bigint) and rounded once by roundToFormat, so every rounding mode, FTZ/DAZ and every flag
 * come out as hardware's. a is the first source operand (the destination register), b the second.
 */
import { Kind, bitLength, isNaN, signedInfinity, signedZero, unpack, type FloatFormat, type Unpacked } from './format.js';
import type { FpContext } from './context.js';
import { DE, IE, RC_DOWN, ZE } from './mxcsr.js';
import { roundToFormat } from './round.js';

/** A NaN operand's result: quieted, SNaN raising IE. */
export function quietNaN(ctx: FpContext, f: FloatFormat, u: Unpacked): bigint {
  if (u.kind === Kind.SNaN) ctx.raise(IE);
  return u.raw | f.quietBit;
}

/**
 * x86 NaN propagation for two operands (SDM Vol. 1 table 4-7, SSE column): the first source
 * operand when it is a NaN, else the second; quieted; IE when either is a SNaN.
 * Returns undefined when neither is a NaN.
 */
export function propagateNaN(ctx: FpContext, f: FloatFormat, a: Unpacked, b: Unpacked): bigint | undefined {
  const an = isNaN(a), bn = isNaN(b);
  if (!an && !bn) return undefined;
  if (a.kind === Kind.SNaN || b.kind === Kind.SNaN) ctx.raise(IE);
  return (an ? a.raw : b.raw) | f.quietBit;
}

/** DE for each subnormal operand that DAZ did not flush. */
function checkDenormal(ctx: FpContext, a: Unpacked, b: Unpacked): void {
  if (a.denormal || b.denormal) ctx.raise(DE);
}

function invalid(ctx: FpContext, f: FloatFormat): bigint {
  ctx.raise(IE);
  return f.defaultNaN;
}

/** a + b, or a - b when subtract. */
export function add(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint, subtract: boolean): bigint {
  const a = unpack(f, ra, ctx.daz), b = unpack(f, rb, ctx.daz);
  const nan = propagateNaN(ctx, f, a, b);
  if (nan !== undefined) return nan;
  checkDenormal(ctx, a, b);
  const bSign = (subtract ? b.sign ^ 1 : b.sign) as 0 | 1;
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
    if (a.kind === Kind.Inf && b.kind === Kind.Inf && a.sign !== bSign) return invalid(ctx, f);
    return signedInfinity(f, a.kind === Kind.Inf ? a.sign : bSign);
  }
  // Exact sum of two finite values (zeros included) on the smaller exponent.
  const e = Math.min(a.kind === Kind.Zero ? Infinity : a.exp, b.kind === Kind.Zero ? Infinity : b.exp);
  if (e === Infinity) return signedZero(f, a.sign === bSign ? a.sign : ctx.rc === RC_DOWN ? 1 : 0);
  const av = a.kind === Kind.Zero ? 0n : a.sig << BigInt(a.exp - e);
  const bv = b.kind === Kind.Zero ? 0n : b.sig << BigInt(b.exp - e);
  const sum = (a.sign ? -av : av) + (bSign ? -bv : bv);
  if (sum === 0n) return signedZero(f, a.sign === bSign ? a.sign : ctx.rc === RC_DOWN ? 1 : 0);
  return sum < 0n ? roundToFormat(ctx, f, 1, -sum, e, false, ctx.rc) : roundToFormat(ctx, f, 0, sum, e, false, ctx.rc);
}

export function mul(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint): bigint {
  const a = unpack(f, ra, ctx.daz), b = unpack(f, rb, ctx.daz);
  const nan = propagateNaN(ctx, f, a, b);
  if (nan !== undefined) return nan;
  checkDenormal(ctx, a, b);
  const sign = (a.sign ^ b.sign) as 0 | 1;
  if (a.kind === Kind.Inf || b.kind === Kind.Inf) {
    if (a.kind === Kind.Zero || b.kind === Kind.Zero) return invalid(ctx, f);
    return signedInfinity(f, sign);
  }
  if (a.kind === Kind.Zero || b.kind === Kind.Zero) return signedZero(f, sign);
  return roundToFormat(ctx, f, sign, a.sig * b.sig, a.exp + b.exp, false, ctx.rc);
}

export function div(ctx: FpContext, f: FloatFormat, ra: bigint, rb: bigint): bigint {
  const a = unpack(f, ra, ctx.daz), b = unpack(f, rb, ctx.daz);
  const nan = propagateNaN(ctx, f, a, b);
  if (nan !== undefined) return nan;
  const sign = (a.sign ^ b.sign) as 0 | 1;
  // Division by zero outranks the denormal-operand check: a subnormal dividend over zero raises ZE only.
  if (b.kind === Kind.Zero && a.kind !== Kind.Inf) {
    if (a.kind === Kind.Zero) return invalid(ctx, f);
    ctx.raise(ZE);
    return signedInfinity(f, sign);
  }
  checkDenormal(ctx, a, b);
  if (a.kind === Kind.Inf) return b.kind === Kind.Inf ? invalid(ctx, f) : signedInfinity(f, sign);
  if (b.kind === Kind.Inf) return signedZero(f, sign);
  if (a.kind === Kind.Zero) return signedZero(f, sign);
  // Enough quotient bits for the rounding position plus a guard; the remainder is the sticky bit.
  const k = Math.max(0, f.precision + 3 + bitLength(b.sig) - bitLength(a.sig));
  const num = a.sig << BigInt(k);
  const q = num / b.sig;
  return roundToFormat(ctx, f, sign, q, a.exp - b.exp - k, q * b.sig !== num, ctx.rc);
}

/** floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  const len = bitLength(n);
  // Newton's iteration from above converges monotonically to the floor.
  let x = 1n << BigInt((len >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(ctx: FpContext, f: FloatFormat, rb: bigint): bigint {
  const b = unpack(f, rb, ctx.daz);
  if (isNaN(b)) return quietNaN(ctx, f, b);
  if (b.kind === Kind.Zero) return signedZero(f, b.sign);
  // A negative operand is invalid, and that outranks the denormal-operand check.
  if (b.sign) return invalid(ctx, f);
  if (b.denormal) ctx.raise(DE);
  if (b.kind === Kind.Inf) return f.infinity;
  // sig * 2^exp with exp even and sig holding at least 2(p+3) bits: the root has p+3.
  let sig = b.sig, exp = b.exp;
  let shift = Math.max(0, 2 * (f.precision + 3) - bitLength(sig));
  if ((exp - shift) & 1) shift++;
  sig <<= BigInt(shift);
  exp -= shift;
  const r = isqrt(sig);
  return roundToFormat(ctx, f, 0, r, exp / 2, r * r !== sig, ctx.rc);
}

export type BinaryOp = (ctx: FpContext, f: FloatFormat, a: bigint, b: bigint) => bigint;
export const ADD: BinaryOp = (ctx, f, a, b) => add(ctx, f, a, b, false);
export const SUB: BinaryOp = (ctx, f, a, b) => add(ctx, f, a, b, true);
export const MUL: BinaryOp = mul;
export const DIV: BinaryOp = div;
export const SQRT: BinaryOp = (ctx, f, _a, b) => sqrt(ctx, f, b);
