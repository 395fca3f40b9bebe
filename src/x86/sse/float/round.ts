/**
 * Exact rounding of a value given as sign, integer significand, power-of-two exponent and a sticky
 * bit (true when nonzero bits below sig were dropped) to a binary format or to an integer, with the
 * flags x86 raises: PE when inexact; OE (with PE) on overflow; UE when the result is tiny, tininess
 * being judged after rounding (x86's rule: the result rounded to the format's precision with an
 * unbounded exponent lies strictly between -2^emin and 2^emin).
 */
import { bitLength, type FloatFormat } from './format.js';
import type { FpContext } from './context.js';
import { OE, PE, RC_DOWN, RC_NEAREST, RC_UP, UE, type RoundingControl } from './mxcsr.js';

/** Set by roundSignificand: whether its last call dropped nonzero bits. */
export let lastInexact = false;

/** sig with its low `drop` bits rounded away (sticky: nonzero bits below sig), by the mode's rule. */
export function roundSignificand(sig: bigint, drop: number, sticky: boolean, sign: 0 | 1, rc: RoundingControl): bigint {
  if (drop <= 0) {
    lastInexact = sticky;
    return sig << BigInt(-drop);
  }
  const d = BigInt(drop);
  const q = sig >> d;
  const rem = sig - (q << d);
  lastInexact = rem !== 0n || sticky;
  if (!lastInexact) return q;
  switch (rc) {
    case RC_NEAREST: {
      const half = 1n << (d - 1n);
      return rem > half || (rem === half && (sticky || (q & 1n) === 1n)) ? q + 1n : q;
    }
    case RC_DOWN: return sign ? q + 1n : q;
    case RC_UP: return sign ? q : q + 1n;
    default: return q;
  }
}

/** The overflowed result: infinity, or the largest finite value when the mode rounds toward zero. */
function overflowResult(f: FloatFormat, sign: 0 | 1, rc: RoundingControl): bigint {
  const toInfinity = rc === RC_NEAREST || (rc === RC_DOWN && sign === 1) || (rc === RC_UP && sign === 0);
  const mag = toInfinity ? f.infinity : f.maxFinite;
  return sign ? f.signBit | mag : mag;
}

/**
 * Rounds (-1)^sign * (sig + sticky) * 2^exp (sig > 0) to format f in mode rc, raising the
 * post-computation flags in ctx and applying FTZ. Returns the raw bits.
 */
export function roundToFormat(ctx: FpContext, f: FloatFormat, sign: 0 | 1, sig: bigint, exp: number, sticky: boolean, rc: RoundingControl): bigint {
  const p = f.precision;
  let n = bitLength(sig);
  // Keep at least two bits below the rounding position so the sticky bit never sits at it.
  if (n < p + 2) {
    const k = p + 2 - n;
    sig <<= BigInt(k);
    exp -= k;
    n += k;
  }
  const top = exp + n - 1;
  // Rounded with an unbounded exponent: decides overflow and tininess.
  const q = roundSignificand(sig, n - p, sticky, sign, rc);
  const carried = q >> BigInt(p) !== 0n;
  const roundedTop = carried ? top + 1 : top;
  const inexact = lastInexact;
  // Unmasked, overflow and underflow fault without delivering a result; PE then tells whether the
  // result rounded to the format's precision (exponent unbounded) was inexact.
  if (roundedTop > f.emax) {
    ctx.raise(ctx.overflowMasked ? OE | PE : inexact ? OE | PE : OE);
    return overflowResult(f, sign, rc);
  }
  const signBits = sign ? f.signBit : 0n;
  if (roundedTop >= f.emin) {
    if (inexact) ctx.raise(PE);
    const m = carried ? q >> 1n : q;
    return signBits | (BigInt(roundedTop + f.bias) << BigInt(f.fracBits)) | (m & f.fracMask);
  }
  // Tiny.
  if (!ctx.underflowMasked) {
    ctx.raise(inexact ? UE | PE : UE);
    return signBits;
  }
  if (ctx.ftz) {
    ctx.raise(UE | PE);
    return signBits;
  }
  // Subnormal rounding: the last kept bit has weight 2^(emin - fracBits). A carry into the
  // implicit-bit position encodes the smallest normal, as the bit patterns line up.
  const d = roundSignificand(sig, f.emin - f.fracBits - exp, sticky, sign, rc);
  if (lastInexact) ctx.raise(UE | PE);
  return signBits | d;
}
