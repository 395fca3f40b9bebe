/**
 * Rounding an exact value m * 2^e into a floating-point format, with the x87 exception rules
 * (Intel SDM vol. 1, 4.9 and 8.5): precision control, the four rounding modes, masked responses
 * to overflow/underflow, the exponent-adjusted results of unmasked overflow/underflow, the
 * precision flag and C1 ("rounded up").
 */
import { BIAS, bitLength, EXP_MAX, type Ext, INT_BIT } from './ext80.js';

/** Exception flags in their FSW (and FCW mask) positions. */
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64;
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/**
 * What an operation runs under and what it reports: pc = significand bits (24, 53 or 64),
 * rc = FCW.RC, masks = FCW bits 0-5; flags collects exceptions, c1 the last rounding's direction
 * (-1: the instruction leaves C1 as it was).
 */
export interface FpEnv { pc: number; rc: number; masks: number; flags: number; c1: number }

export function makeEnv(fcw: number): FpEnv {
  const pcField = (fcw >>> 8) & 3;
  return { pc: pcField === 0 ? 24 : pcField === 2 ? 53 : 64, rc: (fcw >>> 10) & 3, masks: fcw & 0x3f, flags: 0, c1: 0 };
}

export interface Format {
  /** Significand bits. */
  readonly prec: number;
  /** Exponents of the smallest and largest normal numbers (unbiased). */
  readonly emin: number;
  readonly emax: number;
  /** Exponent bias adjustment of unmasked overflow/underflow results (register destinations). */
  readonly adjust: number;
}
export const EXTENDED: Format = { prec: 64, emin: 1 - BIAS, emax: BIAS, adjust: 24576 };
export const DOUBLE: Format = { prec: 53, emin: -1022, emax: 1023, adjust: 1536 };
export const SINGLE: Format = { prec: 24, emin: -126, emax: 127, adjust: 192 };

/**
 * The x87 detects underflow tininess after rounding (as an unbounded-exponent result of the
 * destination precision), checked against the host by test/x87/x87-native.test.ts.
 */
const TININESS_AFTER_ROUNDING = true;

/** A rounded result: kind 0 zero, 1 finite (value m * 2^e, m < 2^prec), 2 infinity. */
export interface Rounded { sign: number; kind: 0 | 1 | 2; m: bigint; e: number }

export interface Step { q: bigint; inexact: boolean; up: boolean }

/** m * 2^e rounded to a multiple of 2^lsb. */
export function roundAt(sign: number, m: bigint, e: number, lsb: number, rc: number): Step {
  const shift = lsb - e;
  if (shift <= 0) return { q: m << BigInt(-shift), inexact: false, up: false };
  const s = BigInt(shift);
  let q = m >> s;
  const rem = m - (q << s);
  if (rem === 0n) return { q, inexact: false, up: false };
  let up: boolean;
  switch (rc) {
    case RC_NEAREST: {
      const half = 1n << (s - 1n);
      up = rem > half || (rem === half && (q & 1n) === 1n);
      break;
    }
    case RC_DOWN: up = sign === 1; break;
    case RC_UP: up = sign === 0; break;
    default: up = false;
  }
  if (up) q += 1n;
  return { q, inexact: true, up };
}

function largest(sign: number, f: Format, prec: number): Rounded {
  return { sign, kind: 1, m: (1n << BigInt(prec)) - 1n, e: f.emax - prec + 1 };
}

/**
 * Rounds sign * m * 2^e (m > 0) to format f at precision prec (<= f.prec), raising OE/UE/PE in
 * env and setting env.c1. Unmasked overflow/underflow give the exponent-adjusted result.
 */
export function roundTo(env: FpEnv, sign: number, m: bigint, e: number, f: Format, prec = f.prec): Rounded {
  const E = e + bitLength(m) - 1;
  const unbounded = roundAt(sign, m, e, E - (prec - 1), env.rc);
  // Exponent of the leading bit of the unbounded-range rounding (E, or E + 1 on a carry out).
  const unbE = (E - (prec - 1)) + bitLength(unbounded.q) - 1;
  const tiny = TININESS_AFTER_ROUNDING ? unbE < f.emin : E < f.emin;
  if (unbE > f.emax) {
    if (!(env.masks & OE) && unbE - f.adjust > f.emax) {
      // Beyond even the adjusted range (FSCALE): infinity (checked against the host).
      env.flags |= OE | PE;
      env.c1 = 1;
      return { sign, kind: 2, m: 0n, e: 0 };
    }
    if (!(env.masks & OE)) {
      env.flags |= OE;
      if (unbounded.inexact) { env.flags |= PE; env.c1 = unbounded.up ? 1 : 0; } else env.c1 = 0;
      return { sign, kind: 1, m: unbounded.q, e: E - (prec - 1) - f.adjust };
    }
    env.flags |= OE | PE;
    const toInf = env.rc === RC_NEAREST || (env.rc === RC_UP && sign === 0) || (env.rc === RC_DOWN && sign === 1);
    env.c1 = toInf ? 1 : 0;
    return toInf ? { sign, kind: 2, m: 0n, e: 0 } : largest(sign, f, prec);
  }
  if (tiny && !(env.masks & UE) && unbE + f.adjust < f.emin) {
    env.flags |= UE | PE;
    env.c1 = 0;
    return { sign, kind: 0, m: 0n, e: 0 };
  }
  if (tiny && !(env.masks & UE)) {
    env.flags |= UE;
    if (unbounded.inexact) { env.flags |= PE; env.c1 = unbounded.up ? 1 : 0; } else env.c1 = 0;
    return { sign, kind: 1, m: unbounded.q, e: E - (prec - 1) + f.adjust };
  }
  const lsb = Math.max(E, f.emin) - (prec - 1);
  const r = lsb === E - (prec - 1) ? unbounded : roundAt(sign, m, e, lsb, env.rc);
  if (r.inexact) {
    env.flags |= PE;
    if (tiny) env.flags |= UE;
    env.c1 = r.up ? 1 : 0;
  } else env.c1 = 0;
  if (r.q === 0n) return { sign, kind: 0, m: 0n, e: 0 };
  return { sign, kind: 1, m: r.q, e: lsb };
}

/** A rounded result in the register format. */
export function packExt(r: Rounded): Ext {
  if (r.kind === 0) return { sign: r.sign, exp: 0, sig: 0n };
  if (r.kind === 2) return { sign: r.sign, exp: EXP_MAX, sig: INT_BIT };
  const n = bitLength(r.m);
  const E = r.e + n - 1;
  if (E >= 1 - BIAS) return { sign: r.sign, exp: E + BIAS, sig: r.m << BigInt(64 - n) };
  const sh = r.e + BIAS + 62;
  return { sign: r.sign, exp: 0, sig: sh >= 0 ? r.m << BigInt(sh) : r.m >> BigInt(-sh) };
}

/** A rounded result as the bits of an IEEE single (24) or double (53) format. */
export function packIeee(r: Rounded, f: Format): bigint {
  const fracBits = BigInt(f.prec - 1);
  const expBits = f.prec === 24 ? 8n : 11n;
  const signBit = BigInt(r.sign) << (fracBits + expBits);
  const expAll = (1n << expBits) - 1n;
  if (r.kind === 0) return signBit;
  if (r.kind === 2) return signBit | (expAll << fracBits);
  const n = bitLength(r.m);
  const E = r.e + n - 1;
  const fracMask = (1n << fracBits) - 1n;
  if (E >= f.emin) {
    return signBit | (BigInt(E + f.emax) << fracBits) | ((r.m << BigInt(f.prec - n)) & fracMask);
  }
  const sh = r.e - (f.emin - (f.prec - 1));
  return signBit | (sh >= 0 ? r.m << BigInt(sh) : r.m >> BigInt(-sh));
}
