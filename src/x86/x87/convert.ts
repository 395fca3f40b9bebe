/**
 * Conversions between the register format and the memory formats: IEEE single and double,
 * two's-complement integers (16/32/64), packed BCD (18 digits), and rounding to an integer
 * (FRNDINT). Loads are exact; stores round by FCW.RC (or truncate: FISTTP).
 */
import {
  BIAS, Cls, classify, exact, type Ext, EXP_MAX, fromExactNormal, INDEFINITE, INT_BIT, isDenormal80, isNaN80,
  QUIET_BIT, zero,
} from './ext80.js';
import { denormalStops } from './arith.js';
import { DE, DOUBLE, type Format, type FpEnv, IE, packIeee, PE, RC_ZERO, roundAt, roundTo, SINGLE } from './round.js';

export { DOUBLE, SINGLE };

/**
 * IEEE single/double bits to the register format, exactly. SNaNs stay signalling (the caller
 * decides whether loading one is invalid); a denormal source raises DE.
 */
export function fromIeee(env: FpEnv, bits: bigint, f: Format): Ext {
  const fracBits = BigInt(f.prec - 1);
  const expBits = f.prec === 24 ? 8n : 11n;
  const sign = Number((bits >> (fracBits + expBits)) & 1n);
  const expAll = Number((1n << expBits) - 1n);
  const ex = Number((bits >> fracBits) & BigInt(expAll));
  const frac = bits & ((1n << fracBits) - 1n);
  const up = BigInt(63 - (f.prec - 1));
  if (ex === expAll) return { sign, exp: EXP_MAX, sig: INT_BIT | (frac << up) };
  if (ex === 0) {
    if (frac === 0n) return zero(sign);
    env.flags |= DE;
    return fromExactNormal(sign, frac, f.emin - (f.prec - 1));
  }
  return { sign, exp: ex - f.emax + BIAS, sig: INT_BIT | (frac << up) };
}

/** The register value stored to single/double (FST/FSTP m32fp/m64fp). */
export function toIeee(env: FpEnv, x: Ext, f: Format): bigint {
  const fracBits = BigInt(f.prec - 1);
  const expBits = f.prec === 24 ? 8n : 11n;
  const expAll = (1n << expBits) - 1n;
  const signBit = BigInt(x.sign) << (fracBits + expBits);
  const c = classify(x);
  const indefinite = (1n << (fracBits + expBits)) | (expAll << fracBits) | (1n << (fracBits - 1n));
  if (c === Cls.Unsupported) { env.flags |= IE; return indefinite; }
  if (isNaN80(c)) {
    if (c === Cls.SNaN) env.flags |= IE;
    const sig = (x.sig | QUIET_BIT) & ~INT_BIT;
    return signBit | (expAll << fracBits) | (sig >> BigInt(63 - (f.prec - 1)));
  }
  if (c === Cls.Inf) return signBit | (expAll << fracBits);
  if (c === Cls.Zero) return signBit;
  const v = exact(x);
  return packIeee(roundTo(env, v.sign, v.m, v.e, f), f);
}

/** A two's-complement integer to the register format (exact for every 64-bit value). */
export function fromInt(v: bigint): Ext {
  if (v === 0n) return zero(0);
  return v < 0n ? fromExactNormal(1, -v, 0) : fromExactNormal(0, v, 0);
}

/**
 * The register value as an integer of `bits` bits (FIST/FISTP; truncate for FISTTP), or the
 * integer indefinite (-2^(bits-1)) with IE for NaNs, infinities and values out of range.
 */
export function toInt(env: FpEnv, x: Ext, bits: number, truncate: boolean): bigint {
  const indefinite = -(1n << BigInt(bits - 1));
  const c = classify(x);
  if (c === Cls.Unsupported || isNaN80(c) || c === Cls.Inf) { env.flags |= IE; return indefinite; }
  if (c === Cls.Zero) { env.c1 = 0; return 0n; }
  const v = exact(x);
  const r = roundAt(v.sign, v.m, v.e, 0, truncate ? RC_ZERO : env.rc);
  const value = v.sign ? -r.q : r.q;
  if (value < indefinite || value > -indefinite - 1n) { env.flags |= IE; return indefinite; }
  if (r.inexact) { env.flags |= PE; env.c1 = r.up ? 1 : 0; } else env.c1 = 0;
  return value;
}

/** FRNDINT: rounds to an integral value by FCW.RC (64-bit precision regardless of PC). */
export function roundToIntegral(env: FpEnv, x: Ext): Ext {
  const c = classify(x);
  if (c === Cls.Unsupported) { env.flags |= IE; return INDEFINITE; }
  if (isNaN80(c)) { if (c === Cls.SNaN) env.flags |= IE; return { ...x, sig: x.sig | QUIET_BIT }; }
  if (c === Cls.Inf || c === Cls.Zero) return x;
  if (isDenormal80(c) && denormalStops(env)) return INDEFINITE;
  const v = exact(x);
  if (v.e >= 0) return x;
  const r = roundAt(v.sign, v.m, v.e, 0, env.rc);
  if (r.inexact) { env.flags |= PE; env.c1 = r.up ? 1 : 0; } else env.c1 = 0;
  return r.q === 0n ? zero(x.sign) : fromExactNormal(x.sign, r.q, 0);
}

/** FBLD: 18 packed BCD digits (bytes 0-8, low digit first) and the sign (byte 9 bit 7). */
export function fromBcd(b: Uint8Array): Ext {
  let v = 0n;
  for (let k = 8; k >= 0; k--) v = v * 100n + BigInt((b[k]! >>> 4) * 10 + (b[k]! & 15));
  const sign = b[9]! >>> 7;
  return v === 0n ? zero(sign) : fromExactNormal(sign, v, 0);
}

const BCD_LIMIT = 10n ** 18n;

/** FBSTP: the packed BCD bytes of the rounded value, or the BCD indefinite with IE. */
export function toBcd(env: FpEnv, x: Ext): Uint8Array {
  const out = new Uint8Array(10);
  const indefinite = (): Uint8Array => { env.flags |= IE; out.fill(0); out[7] = 0xc0; out[8] = 0xff; out[9] = 0xff; return out; };
  const c = classify(x);
  if (c === Cls.Unsupported || isNaN80(c) || c === Cls.Inf) return indefinite();
  let q = 0n;
  if (c !== Cls.Zero) {
    const v = exact(x);
    const r = roundAt(v.sign, v.m, v.e, 0, env.rc);
    if (r.q >= BCD_LIMIT) return indefinite();
    if (r.inexact) { env.flags |= PE; env.c1 = r.up ? 1 : 0; } else env.c1 = 0;
    q = r.q;
  }
  for (let k = 0; k < 9; k++) {
    const two = Number(q % 100n);
    q /= 100n;
    out[k] = ((two / 10) | 0) << 4 | (two % 10);
  }
  out[9] = x.sign << 7;
  return out;
}
