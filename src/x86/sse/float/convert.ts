/** Conversions on one lane: between the two float formats, and between floats and integers. */
import { Kind, isNaN, signedInfinity, signedZero, unpack, type FloatFormat } from './format.js';
import type { FpContext } from './context.js';
import { DE, IE, PE, RC_ZERO } from './mxcsr.js';
import { lastInexact, roundSignificand, roundToFormat } from './round.js';

/** f32 <-> f64. A NaN keeps its sign and the top of its payload, quieted (SNaN: IE). */
export function convertFloat(ctx: FpContext, from: FloatFormat, to: FloatFormat, raw: bigint): bigint {
  const u = unpack(from, raw, ctx.daz);
  if (isNaN(u)) {
    if (u.kind === Kind.SNaN) ctx.raise(IE);
    const shift = to.fracBits - from.fracBits;
    const frac = raw & from.fracMask;
    const payload = shift >= 0 ? frac << BigInt(shift) : frac >> BigInt(-shift);
    return (u.sign ? to.signBit : 0n) | to.infinity | payload | to.quietBit;
  }
  if (u.denormal) ctx.raise(DE);
  if (u.kind === Kind.Zero) return signedZero(to, u.sign);
  if (u.kind === Kind.Inf) return signedInfinity(to, u.sign);
  return roundToFormat(ctx, to, u.sign, u.sig, u.exp, false, ctx.rc);
}

/** A signed integer (as bigint) to format f, rounded by MXCSR.RC. */
export function intToFloat(ctx: FpContext, f: FloatFormat, v: bigint): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundToFormat(ctx, f, 1, -v, 0, false, ctx.rc) : roundToFormat(ctx, f, 0, v, 0, false, ctx.rc);
}

/**
 * Format f to a signed integer of `bits` bits, returned as its unsigned bit pattern. truncate: the
 * CVTT forms (round toward zero); otherwise MXCSR.RC. NaN, infinity and out-of-range results give
 * the integer indefinite (only the sign bit set) and IE; inexact in-range results PE.
 */
export function floatToInt(ctx: FpContext, f: FloatFormat, raw: bigint, bits: 32 | 64, truncate: boolean): bigint {
  const indefinite = 1n << BigInt(bits - 1);
  const u = unpack(f, raw, ctx.daz);
  if (u.kind === Kind.Zero) return 0n;
  if (u.kind !== Kind.Finite) {
    ctx.raise(IE);
    return indefinite;
  }
  let mag: bigint;
  if (u.exp >= 0) {
    // Already an integer; anything shifted past 64 bits is out of range anyway.
    if (u.exp > 64) { ctx.raise(IE); return indefinite; }
    mag = u.sig << BigInt(u.exp);
  } else {
    mag = roundSignificand(u.sig, -u.exp, false, u.sign, truncate ? RC_ZERO : ctx.rc);
  }
  const inexact = u.exp < 0 && lastInexact;
  if (u.sign ? mag > indefinite : mag >= indefinite) {
    ctx.raise(IE);
    return indefinite;
  }
  if (inexact) ctx.raise(PE);
  return u.sign ? BigInt.asUintN(bits, -mag) : mag;
}
