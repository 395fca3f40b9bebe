/**
 * The x87 transcendental instructions on register-format values: FSIN, FCOS, FSINCOS, FPTAN
 * (range |x| < 2^63, else C2 = 1 and nothing changes), FPATAN, F2XM1, FYL2X, FYL2XP1. Special
 * operands follow the tables on each instruction's page in Intel SDM vol. 2. Finite results are
 * computed with bigfloat.ts and rounded once at 64 bits: within about 2^-128 of the exact value,
 * so almost always the correctly rounded result. The trigonometric argument reduction divides by
 * the processor's own approximation of pi (PI_REDUCTION below), exactly, as the hardware does.
 */
import * as B from './bigfloat.js';
import type { BF } from './bigfloat.js';
import { checkDenormals, checkNaNs, checkOperands, denormalStops } from './arith.js';
import { LN2_128, PI_128 } from './constants.js';
import {
  BIAS, Cls, classify, exact, type Ext, INDEFINITE, inf, INT_BIT, isDenormal80, isNaN80, QUIET_BIT, zero,
} from './ext80.js';
import { EXTENDED, type FpEnv, IE, packExt, roundTo, ZE } from './round.js';

const bfOf = (w: { m: bigint; e: number }): BF => B.bf(w.m, w.e - 127);
const PI = bfOf(PI_128);
const LN2 = bfOf(LN2_128);
const ONE = B.fromInt(1n);
const ONE_EXT: Ext = { sign: 0, exp: BIAS, sig: INT_BIT };

/**
 * The pi the trigonometric reduction uses: Intel documents a 66-bit approximation (SDM vol. 1,
 * 8.3.10, "Transcendental Instruction Accuracy"); pi's first 66 bits, truncated.
 */
const PI_REDUCTION_BITS = 66;
const PI_REDUCTION: BF = B.bf(PI_128.m >> BigInt(128 - PI_REDUCTION_BITS), PI_128.e - (PI_REDUCTION_BITS - 1));

function toBF(x: Ext): BF {
  const v = exact(x);
  return B.bf(v.sign ? -v.m : v.m, v.e);
}

/** Rounds a (truncated, so inexact) bigfloat to the register format. */
function round(env: FpEnv, v: BF): Ext {
  if (v.m === 0n) return zero(0);
  const sign = v.m < 0n ? 1 : 0;
  const m = sign ? -v.m : v.m;
  return packExt(roundTo(env, sign, (m << 1n) | 1n, v.e - 1, EXTENDED));
}

function invalid(env: FpEnv): Ext {
  env.flags |= IE;
  return INDEFINITE;
}

/** Result for a unary operand that is not finite-nonzero, or undefined to go on. */
function unarySpecial(env: FpEnv, x: Ext, c: Cls): Ext | undefined {
  if (c === Cls.Unsupported) return invalid(env);
  if (isNaN80(c)) {
    if (c === Cls.SNaN) env.flags |= IE;
    return { ...x, sig: x.sig | QUIET_BIT };
  }
  if (isDenormal80(c) && denormalStops(env)) return INDEFINITE;
  return undefined;
}

// ---- series ----------------------------------------------------------------------------------

/** Every series here converges in well under a few hundred terms; more is a bug, not a hang. */
function guard(n: number): void {
  if (n > 2000) throw new RangeError('x87 transcendental: series did not converge');
}

function sinCosSeries(r: BF): { s: BF; c: BF } {
  const r2 = B.mul(r, r);
  let s = r, term = r;
  for (let n = 1; ; n++) {
    guard(n);
    term = B.neg(B.div(B.mul(term, r2), B.fromInt(BigInt((2 * n) * (2 * n + 1)))));
    s = B.add(s, term);
    if (B.negligible(term, B.exponentOf(s))) break;
  }
  let c = ONE;
  term = ONE;
  for (let n = 1; ; n++) {
    guard(n);
    term = B.neg(B.div(B.mul(term, r2), B.fromInt(BigInt((2 * n - 1) * (2 * n)))));
    c = B.add(c, term);
    if (B.negligible(term, 0)) break;
  }
  return { s, c };
}

/** atan(t) for t >= 0. */
function atan(t: BF): BF {
  if (B.isZero(t)) return t;
  if (B.cmp(t, ONE) > 0) return B.sub(B.ldexp(PI, -1), atan(B.div(ONE, t)));
  // Two argument halvings, atan(t) = 2 atan(t / (1 + sqrt(1 + t^2))), then the series.
  let u = t;
  for (let k = 0; k < 2; k++) u = B.div(u, B.add(ONE, B.sqrt(B.add(ONE, B.mul(u, u)))));
  const u2 = B.mul(u, u);
  let sum = u, pow = u;
  for (let n = 1; ; n++) {
    guard(n);
    pow = B.neg(B.mul(pow, u2));
    const term = B.div(pow, B.fromInt(BigInt(2 * n + 1)));
    sum = B.add(sum, term);
    if (B.negligible(term, B.exponentOf(sum))) break;
  }
  return B.ldexp(sum, 2);
}

/** 2 atanh(z) = ln((1 + z) / (1 - z)), |z| small. */
function twoAtanh(z: BF): BF {
  const z2 = B.mul(z, z);
  let sum = z, pow = z;
  for (let n = 1; ; n++) {
    guard(n);
    pow = B.mul(pow, z2);
    const term = B.div(pow, B.fromInt(BigInt(2 * n + 1)));
    sum = B.add(sum, term);
    if (B.negligible(term, B.exponentOf(sum))) break;
  }
  return B.ldexp(sum, 1);
}

/** log2(x) for a finite x > 0 (exact m * 2^e). */
function log2(m: bigint, e: number): BF {
  const f0 = B.bf(m, 0);
  let E = e + B.exponentOf(f0);
  let f = B.ldexp(f0, -B.exponentOf(f0)); // [1, 2)
  if (B.cmp(f, B.sqrt(B.fromInt(2n))) > 0) { f = B.ldexp(f, -1); E += 1; }
  const ln = twoAtanh(B.div(B.sub(f, ONE), B.add(f, ONE)));
  return B.add(B.fromInt(BigInt(E)), B.div(ln, LN2));
}

/** log2(1 + x) for x > -1. */
function log2p1(x: BF): BF {
  // Near zero the atanh form keeps full relative precision; elsewhere 1 + x is formed (to PREC bits).
  if (B.exponentOf(x) < -2) return B.div(twoAtanh(B.div(x, B.add(B.fromInt(2n), x))), LN2);
  const u = B.add(ONE, x);
  return log2(u.m, u.e);
}

/** 2^x - 1; |x| > 1 (outside F2XM1's defined range) as 2^n * 2^f - 1 with n = trunc(x). */
function exp2m1(x: BF): BF {
  if (B.exponentOf(x) >= 0) {
    const n = x.e >= 0 ? x.m << BigInt(x.e) : x.m / (1n << BigInt(-x.e));
    const f = B.sub(x, B.fromInt(n));
    return B.sub(B.ldexp(B.add(ONE, exp2m1(f)), Number(n)), ONE);
  }
  const y = B.mul(x, LN2);
  let sum = y, term = y;
  for (let n = 2; ; n++) {
    guard(n);
    term = B.div(B.mul(term, y), B.fromInt(BigInt(n)));
    sum = B.add(sum, term);
    if (B.negligible(term, B.exponentOf(sum))) break;
  }
  return sum;
}

// ---- instructions ----------------------------------------------------------------------------

/** |x| >= 2^63: the trigonometric instructions leave it alone and set C2. */
const outOfTrigRange = (x: Ext): boolean => x.exp >= BIAS + 63;

export const enum Trig { Sin, Cos, Tan, SinCos }

/**
 * FSIN/FCOS/FPTAN/FSINCOS: [result in ST(0)'s place, second result pushed (FPTAN's 1, FSINCOS's
 * cosine)], or undefined when the operand is out of range (C2 = 1).
 */
export function trig(env: FpEnv, x: Ext, op: Trig): [Ext, Ext | undefined] | undefined {
  const c = classify(x);
  const both = (v: Ext): [Ext, Ext | undefined] => [v, op === Trig.Tan || op === Trig.SinCos ? v : undefined];
  if (c === Cls.Inf) return both(invalid(env));
  const special = unarySpecial(env, x, c);
  if (special) return both(special);
  if (c === Cls.Zero) {
    if (op === Trig.Cos) return [ONE_EXT, undefined];
    if (op === Trig.Tan) return [x, ONE_EXT];
    if (op === Trig.SinCos) return [x, ONE_EXT];
    return [x, undefined];
  }
  if (outOfTrigRange(x)) return undefined;
  const v = exact(x);
  // Exact reduction: |x| = k * (P/2) + r with |r| <= P/4, P the processor's pi.
  const half = B.ldexp(PI_REDUCTION, -1);
  const e0 = Math.min(v.e, half.e);
  const xm = v.m << BigInt(v.e - e0), pm = half.m << BigInt(half.e - e0);
  const k = (2n * xm + pm) / (2n * pm);
  const r = B.bf(xm - k * pm, e0);
  const { s, c: co } = sinCosSeries(r);
  const q = Number(k & 3n);
  let sin = [s, co, B.neg(s), B.neg(co)][q]!;
  const cos = [co, B.neg(s), B.neg(co), s][q]!;
  if (x.sign) sin = B.neg(sin);
  switch (op) {
    case Trig.Sin: return [round(env, sin), undefined];
    case Trig.Cos: return [round(env, cos), undefined];
    case Trig.Tan: return [round(env, B.div(sin, cos)), ONE_EXT];
    default: {
      const sv = round(env, sin);
      const c1 = env.c1;
      const cv = round(env, cos);
      env.c1 = c1 | env.c1;
      return [sv, cv];
    }
  }
}

/** FPATAN: atan(y / x) in the quadrant of (x, y); y is ST(1), x is ST(0). */
export function atan2(env: FpEnv, y: Ext, x: Ext): Ext {
  const cy = classify(y), cx = classify(x);
  const special = checkOperands(env, y, x, cy, cx);
  if (special) return special;
  const pi = (): BF => PI;
  let a: BF;
  if (cy === Cls.Zero) {
    if (x.sign === 0) return zero(y.sign);
    a = pi();
  } else if (cy === Cls.Inf) {
    a = cx === Cls.Inf ? (x.sign ? B.mul(pi(), B.bf(3n, -2)) : B.ldexp(pi(), -2)) : B.ldexp(pi(), -1);
  } else if (cx === Cls.Inf) {
    if (x.sign === 0) return zero(y.sign);
    a = pi();
  } else if (cx === Cls.Zero) {
    a = B.ldexp(pi(), -1);
  } else {
    const t = atan(B.div(B.bf(exact(y).m, exact(y).e), B.bf(exact(x).m, exact(x).e)));
    a = x.sign ? B.sub(pi(), t) : t;
  }
  return round(env, y.sign ? B.neg(a) : a);
}

/** F2XM1: 2^x - 1 (the processor defines it for -1 <= x <= 1). */
export function exp2Minus1(env: FpEnv, x: Ext): Ext {
  const c = classify(x);
  const special = unarySpecial(env, x, c);
  if (special) return special;
  if (c === Cls.Zero) return x;
  if (c === Cls.Inf) return x.sign ? { sign: 1, exp: BIAS, sig: INT_BIT } : x;
  // Far outside the defined range the value is +inf-like or -1: bound the exponent first.
  if (x.exp > BIAS + 16) return x.sign ? round(env, B.bf(-1n, 0)) : round(env, B.ldexp(ONE, 70000));
  // Even where 2^x - 1 is exact (x = -1, 1) the processor reports PE: computed, not looked up.
  return round(env, exp2m1(toBF(x)));
}

/** FYL2X: y * log2(x); y is ST(1), x is ST(0). */
export function ylog2x(env: FpEnv, y: Ext, x: Ext): Ext {
  const cy = classify(y), cx = classify(x);
  const nan = checkNaNs(env, x, y, cx, cy);
  if (nan) return nan;
  // Invalid operands are seen before denormal ones (checked against the host).
  if (x.sign === 1 && cx !== Cls.Zero) return invalid(env);
  if ((cx === Cls.Zero || cx === Cls.Inf) && cy === Cls.Zero) return invalid(env);
  // log2(0) with a finite y is a division by zero, seen before a denormal y.
  if (cx === Cls.Zero) {
    if (cy !== Cls.Inf) env.flags |= ZE;
    return inf(y.sign ^ 1);
  }
  const den = checkDenormals(env, cx, cy);
  if (den) return den;
  if (cx === Cls.Inf) return cy === Cls.Zero ? invalid(env) : inf(y.sign);
  const v = exact(x);
  const n = v.m.toString(2).length;
  const isPow2 = (v.m & (v.m - 1n)) === 0n;
  const lg = isPow2 ? v.e + n - 1 : undefined;
  if (lg === 0) return cy === Cls.Inf ? invalid(env) : zero(y.sign);
  if (cy === Cls.Inf) return inf(y.sign ^ (lg !== undefined ? (lg < 0 ? 1 : 0) : (v.e + n - 1 < 0 ? 1 : 0)));
  if (cy === Cls.Zero) return zero(y.sign ^ ((lg ?? v.e + n - 1) < 0 ? 1 : 0));
  // Exact logarithms (powers of two) are computed like the rest: the processor reports PE.
  return round(env, B.mul(toBF(y), log2(v.m, v.e)));
}

/** FYL2XP1: y * log2(x + 1); the processor defines it for |x| < 1 - sqrt(2)/2. */
export function ylog2xp1(env: FpEnv, y: Ext, x: Ext): Ext {
  const cy = classify(y), cx = classify(x);
  const nan = checkNaNs(env, x, y, cx, cy);
  if (nan) return nan;
  // Invalid operands are seen before denormal ones (checked against the host).
  if (cx === Cls.Zero && cy === Cls.Inf) return invalid(env);
  if (cx === Cls.Inf && (x.sign === 1 || cy === Cls.Zero)) return invalid(env);
  const xb = cx === Cls.Zero || cx === Cls.Inf ? B.ZERO_BF : toBF(x);
  const belowMinus1 = B.cmp(xb, B.neg(ONE));
  if (belowMinus1 < 0 || (belowMinus1 === 0 && cy === Cls.Zero)) return invalid(env);
  const den = checkDenormals(env, cx, cy);
  if (den) return den;
  if (cx === Cls.Zero) return zero(x.sign ^ y.sign);
  if (cx === Cls.Inf) return inf(y.sign);
  if (belowMinus1 === 0) return inf(y.sign ^ 1);
  if (cy === Cls.Zero) return zero(y.sign ^ x.sign);
  if (cy === Cls.Inf) return inf(y.sign ^ x.sign);
  return round(env, B.mul(toBF(y), log2p1(xb)));
}
