/**
 * FXTRACT, FSCALE, FPREM and FPREM1 on register-format values (Intel SDM vol. 2, their pages):
 * exact bigint computations; only FSCALE can round (when its result over- or underflows).
 */
import { checkDenormals, checkNaNs, checkOperands, denormalStops } from './arith.js';
import {
  bitLength, Cls, classify, exact, type Ext, fromExactNormal, INDEFINITE, inf, isDenormal80, isNaN80,
  QUIET_BIT, zero,
} from './ext80.js';
import { fromInt } from './convert.js';
import { EXTENDED, type FpEnv, IE, packExt, RC_ZERO, roundAt, roundTo, ZE } from './round.js';

/** FXTRACT: [exponent as a value, significand with exponent 0]; the exponent goes below. */
export function extract(env: FpEnv, x: Ext): [Ext, Ext] {
  const c = classify(x);
  if (c === Cls.Unsupported) { env.flags |= IE; return [INDEFINITE, INDEFINITE]; }
  if (isNaN80(c)) {
    if (c === Cls.SNaN) env.flags |= IE;
    const q = { ...x, sig: x.sig | QUIET_BIT };
    return [q, q];
  }
  if (c === Cls.Zero) { env.flags |= ZE; return [inf(1), x]; }
  if (c === Cls.Inf) return [inf(0), x];
  if (isDenormal80(c) && denormalStops(env)) return [INDEFINITE, INDEFINITE];
  const v = exact(x);
  const n = bitLength(v.m);
  const E = v.e + n - 1;
  return [fromInt(BigInt(E)), fromExactNormal(x.sign, v.m, -(n - 1))];
}

/** FSCALE: ST(0) * 2^trunc(ST(1)), rounded at full precision when it over- or underflows. */
export function scale(env: FpEnv, x: Ext, s: Ext): Ext {
  const cx = classify(x), cs = classify(s);
  const special = checkOperands(env, x, s, cx, cs);
  if (special) return special;
  if (cs === Cls.Inf) {
    if (s.sign === 0) return cx === Cls.Zero ? invalid(env) : cx === Cls.Inf ? x : inf(x.sign);
    return cx === Cls.Inf ? invalid(env) : zero(x.sign);
  }
  if (cx === Cls.Zero || cx === Cls.Inf) return x;
  let n = 0;
  if (cs !== Cls.Zero) {
    const t = exact(s);
    const r = roundAt(t.sign, t.m, t.e, 0, RC_ZERO);
    // Beyond +-2^17 every result over- or underflows alike; clamp so exponents stay small numbers.
    const mag = r.q > 200000n ? 200000 : Number(r.q);
    n = t.sign ? -mag : mag;
  }
  const v = exact(x);
  return packExt(roundTo(env, x.sign, v.m, v.e + n, EXTENDED));
}

function invalid(env: FpEnv): Ext {
  env.flags |= IE;
  return INDEFINITE;
}

/**
 * FPREM/FPREM1 outcome: the new ST(0), and quotient bits / completion for C0 C3 C1 and C2;
 * q = -1 when no remainder was computed (special operands: C0 and C3 stay as they were).
 */
export interface Remainder { value: Ext; q: number; incomplete: boolean; }

/**
 * Partial remainder. ieee: FPREM1 (quotient rounded to nearest), else FPREM (truncated). An
 * exponent difference of 64 or more reduces only partly (C2 = 1) by 2^(d - N); the processor
 * picks N in 32..63 (SDM) and this model takes N = 32 + (d mod 32), matching the host check.
 */
export function remainder(env: FpEnv, x: Ext, y: Ext, ieee: boolean): Remainder {
  const cx = classify(x), cy = classify(y);
  const nan = checkNaNs(env, x, y, cx, cy);
  if (nan) return { value: nan, q: -1, incomplete: false };
  // Invalid operands are seen before denormal ones (checked against the host).
  if (cx === Cls.Inf || cy === Cls.Zero) return { value: invalid(env), q: -1, incomplete: false };
  const den = checkDenormals(env, cx, cy);
  if (den) return { value: den, q: -1, incomplete: false };
  if (cx === Cls.Zero) return { value: x, q: 0, incomplete: false };
  const a = exact(x);
  // A finite dividend over an infinite divisor is its own remainder (quotient 0; SDM tables
  // 3-31/3-32 "assuming that underflow does not occur"), delivered as a result like any other
  // (#U: result too small; checked against the host): a pseudo-denormal comes back normalized
  // (exponent 1), and a denormal is tiny, so unmasked UE raises UE and biases its exponent up by
  // 24576 (SDM vol. 1, 8.5.5); masked, the exact denormal raises nothing more.
  if (cy === Cls.Inf) return { value: packExt(roundTo(env, x.sign, a.m, a.e, EXTENDED)), q: 0, incomplete: false };
  const b = exact(y);
  const ea = a.e + bitLength(a.m) - 1, eb = b.e + bitLength(b.m) - 1;
  const d = ea - eb;
  if (d >= 64) {
    const n = 32 + (d % 32);
    // q = trunc(x / (y * 2^(d - n))), r = x - q * y * 2^(d - n): exact with a common exponent.
    const sh = d - n;
    const ym = b.m, ye = b.e + sh;
    const e0 = Math.min(a.e, ye);
    const xm = a.m << BigInt(a.e - e0), yy = ym << BigInt(ye - e0);
    const q = xm / yy;
    const r = xm - q * yy;
    return { value: r === 0n ? zero(x.sign) : packExt(roundTo(env, x.sign, r, e0, EXTENDED)), q: 0, incomplete: true };
  }
  const e0 = Math.min(a.e, b.e);
  const xm = a.m << BigInt(a.e - e0), ym = b.m << BigInt(b.e - e0);
  let q = xm / ym;
  let r = xm - q * ym;
  let sign = x.sign;
  if (ieee) {
    const twice = r << 1n;
    if (twice > ym || (twice === ym && (q & 1n) === 1n)) { q += 1n; r = ym - r; sign ^= 1; }
  }
  const value = r === 0n ? zero(x.sign) : packExt(roundTo(env, sign, r, e0, EXTENDED));
  return { value, q: Number(q & 7n), incomplete: false };
}

