/**
 * The basic arithmetic of the x87 on register-format values: add, subtract, multiply, divide,
 * square root, computed exactly with bigints and rounded once (round.ts). Special operands follow
 * Intel SDM vol. 1, 4.8.3 and 8.5: unsupported encodings and invalid operations give the real
 * indefinite, SNaNs are quieted, two NaNs give the one with the larger significand.
 */
import {
  bitLength, Cls, classify, exact, type Ext, INDEFINITE, inf, isDenormal80, isNaN80, QUIET_BIT, zero,
} from './ext80.js';
import { DE, EXTENDED, type FpEnv, IE, packExt, RC_DOWN, roundTo, ZE } from './round.js';

/**
 * The NaN result of an operation with NaN operands (SDM Table 4-7, x87 column): a lone NaN,
 * quieted; an SNaN with a QNaN: the QNaN; two of a kind: the larger significand.
 */
export function propagateNaN(a: Ext, b: Ext, ca: Cls, cb: Cls): Ext {
  const q = (x: Ext): Ext => ({ sign: x.sign, exp: x.exp, sig: x.sig | QUIET_BIT });
  if (!isNaN80(cb)) return q(a);
  if (!isNaN80(ca)) return q(b);
  if (ca !== cb) return ca === Cls.QNaN ? a : b;
  const sa = a.sig | QUIET_BIT, sb = b.sig | QUIET_BIT;
  if (sa > sb) return q(a);
  if (sb > sa) return q(b);
  return a.sign <= b.sign ? q(a) : q(b);
}

/**
 * Checks two operands before an arithmetic operation: the result for unsupported or NaN
 * operands (with IE as due), else undefined after raising DE for denormal operands.
 */
export function checkOperands(env: FpEnv, a: Ext, b: Ext, ca: Cls, cb: Cls): Ext | undefined {
  return checkNaNs(env, a, b, ca, cb) ?? checkDenormals(env, ca, cb);
}

/** The result for unsupported or NaN operands (IE as due), else undefined. */
export function checkNaNs(env: FpEnv, a: Ext, b: Ext, ca: Cls, cb: Cls): Ext | undefined {
  if (ca === Cls.Unsupported || cb === Cls.Unsupported) { env.flags |= IE; return INDEFINITE; }
  if (isNaN80(ca) || isNaN80(cb)) {
    if (ca === Cls.SNaN || cb === Cls.SNaN) env.flags |= IE;
    return propagateNaN(a, b, ca, cb);
  }
  return undefined;
}

/** DE for denormal operands: a stand-in result when unmasked (the operation stops), else undefined. */
export function checkDenormals(env: FpEnv, ca: Cls, cb: Cls): Ext | undefined {
  if (isDenormal80(ca) || isDenormal80(cb)) {
    env.flags |= DE;
    // Unmasked, the denormal-operand exception stops the operation before it computes anything.
    if (!(env.masks & DE)) return INDEFINITE;
  }
  return undefined;
}

/**
 * Raises DE for a denormal operand; true when it is unmasked, which stops the operation before
 * it computes anything (the caller's result is then discarded).
 */
export function denormalStops(env: FpEnv): boolean {
  env.flags |= DE;
  return (env.masks & DE) === 0;
}

function invalid(env: FpEnv): Ext {
  env.flags |= IE;
  return INDEFINITE;
}

/** Rounds an exact nonzero result at the environment's precision control. */
function finish(env: FpEnv, sign: number, m: bigint, e: number): Ext {
  if (m === 0n) return zero(env.rc === RC_DOWN ? 1 : 0);
  return packExt(roundTo(env, sign, m, e, EXTENDED, env.pc));
}

/** Exact sum of two finite nonzero operands as (sign, m, e) before rounding. */
function exactSum(a: Ext, b: Ext, bSign: number): { sign: number; m: bigint; e: number } {
  let x = exact(a), y = exact(b);
  y = { sign: bSign, m: y.m, e: y.e };
  if (x.e < y.e) [x, y] = [y, x];
  let d = x.e - y.e;
  let ym = y.m;
  // A far smaller addend only matters as a sticky bit far below every rounding position.
  if (d > 256) { d = 256; ym = 1n; }
  const xm = x.m << BigInt(d);
  const e = x.e - d;
  if (x.sign === y.sign) return { sign: x.sign, m: xm + ym, e };
  return xm >= ym ? { sign: x.sign, m: xm - ym, e } : { sign: y.sign, m: ym - xm, e };
}

function addSigned(env: FpEnv, a: Ext, b: Ext, bSign: number): Ext {
  const ca = classify(a), cb = classify(b);
  const special = checkOperands(env, a, b, ca, cb);
  if (special) return special;
  if (ca === Cls.Inf) return cb === Cls.Inf && a.sign !== bSign ? invalid(env) : a;
  if (cb === Cls.Inf) return inf(bSign);
  if (ca === Cls.Zero && cb === Cls.Zero) {
    return a.sign === bSign ? zero(a.sign) : zero(env.rc === RC_DOWN ? 1 : 0);
  }
  if (cb === Cls.Zero) { const x = exact(a); return finish(env, x.sign, x.m, x.e); }
  if (ca === Cls.Zero) { const y = exact(b); return finish(env, bSign, y.m, y.e); }
  const s = exactSum(a, b, bSign);
  return finish(env, s.sign, s.m, s.e);
}

export const add = (env: FpEnv, a: Ext, b: Ext): Ext => addSigned(env, a, b, b.sign);
export const sub = (env: FpEnv, a: Ext, b: Ext): Ext => addSigned(env, a, b, b.sign ^ 1);

export function mul(env: FpEnv, a: Ext, b: Ext): Ext {
  const ca = classify(a), cb = classify(b);
  const special = checkOperands(env, a, b, ca, cb);
  if (special) return special;
  const sign = a.sign ^ b.sign;
  if (ca === Cls.Inf || cb === Cls.Inf) return ca === Cls.Zero || cb === Cls.Zero ? invalid(env) : inf(sign);
  if (ca === Cls.Zero || cb === Cls.Zero) return zero(sign);
  const x = exact(a), y = exact(b);
  return finish(env, sign, x.m * y.m, x.e + y.e);
}

/** Shifts a nonzero significand up to exactly 64 bits. */
function norm64(m: bigint, e: number): { m: bigint; e: number } {
  let s = 0;
  while (((m << BigInt(s)) >> 63n) === 0n) s++;
  return { m: m << BigInt(s), e: e - s };
}

export function div(env: FpEnv, a: Ext, b: Ext): Ext {
  const ca = classify(a), cb = classify(b);
  const nan = checkNaNs(env, a, b, ca, cb);
  if (nan) return nan;
  const sign = a.sign ^ b.sign;
  // A zero divisor is seen before a denormal dividend: ZE alone (checked against the host).
  if (cb === Cls.Zero && ca !== Cls.Zero && ca !== Cls.Inf) {
    env.flags |= ZE;
    return inf(sign);
  }
  const den = checkDenormals(env, ca, cb);
  if (den) return den;
  if (ca === Cls.Inf) return cb === Cls.Inf ? invalid(env) : inf(sign);
  if (cb === Cls.Inf) return zero(sign);
  if (cb === Cls.Zero) return invalid(env);
  if (ca === Cls.Zero) return zero(sign);
  const x0 = exact(a), y0 = exact(b);
  const x = norm64(x0.m, x0.e), y = norm64(y0.m, y0.e);
  const num = x.m << 66n;
  const q = num / y.m;
  const sticky = num - q * y.m !== 0n ? 1n : 0n;
  return finish(env, sign, (q << 1n) | sticky, x.e - y.e - 67);
}

/** Integer square root (floor) of n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton's iteration descends monotonically from any start at or above the root: start from
  // the float root of the top ~100 bits, nudged up past the float's error.
  let shift = Math.max(0, bitLength(n) - 100);
  if (shift & 1) shift++;
  const top = Number(n >> BigInt(shift));
  let x = (BigInt(Math.ceil(Math.sqrt(top) * (1 + 2 ** -40))) + 1n) << BigInt(shift / 2);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(env: FpEnv, a: Ext): Ext {
  const ca = classify(a);
  if (ca === Cls.Unsupported) return invalid(env);
  if (isNaN80(ca)) { if (ca === Cls.SNaN) env.flags |= IE; return { ...a, sig: a.sig | QUIET_BIT }; }
  if (ca === Cls.Zero) return a;
  if (a.sign === 1) return invalid(env);
  if (ca === Cls.Inf) return a;
  if (isDenormal80(ca) && denormalStops(env)) return INDEFINITE;
  const x = exact(a);
  // Scale to an even exponent and enough bits (> 2 * 66) that the root has guard bits to spare.
  let k = 140;
  if ((x.e - k) % 2 !== 0) k++;
  const n = x.m << BigInt(k);
  const r = isqrt(n);
  const sticky = n - r * r !== 0n ? 1n : 0n;
  return finish(env, 0, (r << 1n) | sticky, (x.e - k) / 2 - 1);
}
