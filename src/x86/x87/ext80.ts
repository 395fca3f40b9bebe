/**
 * The x87 80-bit extended-precision format as data: sign, 15-bit biased exponent field and the
 * 64-bit significand field (explicit integer bit 63) kept as a bigint, exactly as stored in a
 * register or an m80 operand. Classification follows Intel SDM vol. 1, 8.2.2 (Table 8-3) and
 * 4.8.3: pseudo-NaNs, pseudo-infinities and unnormals are "unsupported" (invalid-operation
 * operands); pseudo-denormals are accepted and read like exponent 1.
 */

export interface Ext { sign: number; exp: number; sig: bigint }

export const BIAS = 16383;
export const EXP_MAX = 0x7fff;
export const INT_BIT = 1n << 63n;
export const QUIET_BIT = 1n << 62n;
export const SIG_MASK = (1n << 64n) - 1n;

export const enum Cls { Zero, Normal, Denormal, PseudoDenormal, Inf, QNaN, SNaN, Unsupported }

export function classify(x: Ext): Cls {
  const int = (x.sig & INT_BIT) !== 0n;
  if (x.exp === EXP_MAX) {
    if (!int) return Cls.Unsupported;
    const frac = x.sig & ~INT_BIT;
    if (frac === 0n) return Cls.Inf;
    return (x.sig & QUIET_BIT) !== 0n ? Cls.QNaN : Cls.SNaN;
  }
  if (x.exp === 0) {
    if (x.sig === 0n) return Cls.Zero;
    return int ? Cls.PseudoDenormal : Cls.Denormal;
  }
  return int ? Cls.Normal : Cls.Unsupported;
}

export const isNaN80 = (c: Cls): boolean => c === Cls.QNaN || c === Cls.SNaN;
export const isDenormal80 = (c: Cls): boolean => c === Cls.Denormal || c === Cls.PseudoDenormal;

/** The real indefinite: the QNaN masked invalid operations deliver. */
export const INDEFINITE: Ext = Object.freeze({ sign: 1, exp: EXP_MAX, sig: INT_BIT | QUIET_BIT });
export const ZERO: Ext = Object.freeze({ sign: 0, exp: 0, sig: 0n });

export const ext = (sign: number, exp: number, sig: bigint): Ext => ({ sign, exp, sig });
export const inf = (sign: number): Ext => ({ sign, exp: EXP_MAX, sig: INT_BIT });
export const zero = (sign: number): Ext => ({ sign, exp: 0, sig: 0n });
export const quiet = (x: Ext): Ext => ({ sign: x.sign, exp: x.exp, sig: x.sig | QUIET_BIT });
export const negate = (x: Ext): Ext => ({ sign: x.sign ^ 1, exp: x.exp, sig: x.sig });
export const abs = (x: Ext): Ext => ({ sign: 0, exp: x.exp, sig: x.sig });

/** Reads 10 little-endian bytes (significand, then sign:exponent). */
export function fromBytes(b: Uint8Array): Ext {
  // Two 32-bit halves as numbers, then one bigint assembly (byte-wise bigint steps cost more).
  const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  const sig = (BigInt(hi) << 32n) | BigInt(lo);
  const se = b[8]! | (b[9]! << 8);
  return { sign: se >>> 15, exp: se & EXP_MAX, sig };
}

export function toBytes(x: Ext, out: Uint8Array = new Uint8Array(10)): Uint8Array {
  const lo = Number(x.sig & 0xffffffffn), hi = Number(x.sig >> 32n);
  out[0] = lo; out[1] = lo >>> 8; out[2] = lo >>> 16; out[3] = lo >>> 24;
  out[4] = hi; out[5] = hi >>> 8; out[6] = hi >>> 16; out[7] = hi >>> 24;
  const se = (x.sign << 15) | x.exp;
  out[8] = se & 0xff; out[9] = se >>> 8;
  return out;
}

/**
 * A finite, nonzero supported operand as an exact m * 2^e (m > 0). Pseudo-denormals read with
 * exponent 1 (their integer bit set), as the processor does.
 */
export interface Exact { sign: number; m: bigint; e: number }
export function exact(x: Ext): Exact {
  return { sign: x.sign, m: x.sig, e: (x.exp === 0 ? 1 : x.exp) - BIAS - 63 };
}

const WIDE = 1n << 256n;

export function bitLength(m: bigint): number {
  if (m < WIDE) {
    // 64 bits at a time for the products and quotients of ordinary operations.
    let n = 0;
    while (m > SIG_MASK) { m >>= 64n; n += 64; }
    const hi = Number(m >> 32n);
    return n + (hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(m)));
  }
  const h = m.toString(16);
  return (h.length - 1) * 4 + (32 - Math.clz32(parseInt(h[0]!, 16)));
}

/** A finite nonzero m * 2^e that fits 64 bits, normalized to the register format (exact, no rounding). */
export function fromExactNormal(sign: number, m: bigint, e: number): Ext {
  const n = bitLength(m);
  const exp = e + n - 1 + BIAS;
  return { sign, exp, sig: m << BigInt(64 - n) };
}

/** FXSAVE's abridged tag for a register's contents and the full two-bit tag of FNSTENV/FNSAVE. */
export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;
export function fullTag(x: Ext): number {
  const c = classify(x);
  if (c === Cls.Zero) return TAG_ZERO;
  if (c === Cls.Normal) return TAG_VALID;
  return TAG_SPECIAL;
}
