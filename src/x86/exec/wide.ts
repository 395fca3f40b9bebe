/**
 * Exact wide multiplication without BigInt: 32x32 -> 64 and 64x64 -> 128 from 16-bit limbs
 * (every partial product and column sum stays below 2^53). Results land in `wide`.
 */

const TWO53 = 2 ** 53;

/** The last product: w0 (lowest) .. w3 (highest) int32 words. */
export const wide = { w0: 0, w1: 0, w2: 0, w3: 0 };

/** Unsigned a * b (uint32 values) -> wide.w0 (lo), wide.w1 (hi). */
export function mulU32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const p = a * b;
  if (p < TWO53) {
    wide.w0 = Math.imul(a, b);
    wide.w1 = Math.floor(p / 4294967296) | 0;
    return;
  }
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl;
  const mid = al * bh + ah * bl + Math.floor(ll / 65536);
  wide.w0 = Math.imul(a, b);
  wide.w1 = (ah * bh + Math.floor(mid / 65536)) | 0;
}

/** Signed a * b (int32 values) -> wide.w0, wide.w1. */
export function mulS32(a: number, b: number): void {
  // The double product is exact while it stays below 2^53 in magnitude (and rounding cannot
  // carry a larger product below that bound), so most products skip the limb arithmetic.
  const p = (a | 0) * (b | 0);
  if (p < TWO53 && p > -TWO53) {
    wide.w0 = Math.imul(a, b);
    wide.w1 = Math.floor(p / 4294967296) | 0;
    return;
  }
  mulU32(a, b);
  let hi = wide.w1;
  if (a < 0) hi -= b;
  if (b < 0) hi -= a;
  wide.w1 = hi | 0;
}

/**
 * Unsigned 64 x 64 -> 128: (alo, ahi) * (blo, bhi) -> wide.w0..w3, column by column over 16-bit
 * limbs (straight-line: no arrays, loops or divisions by non-powers of two).
 */
export function mulU64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff, a1 = alo >>> 16, a2 = ahi & 0xffff, a3 = ahi >>> 16;
  const b0 = blo & 0xffff, b1 = blo >>> 16, b2 = bhi & 0xffff, b3 = bhi >>> 16;
  // Each column sum is below 2^35: exact in doubles; `& 0xffff` keeps its low limb (ToInt32 wraps
  // by a multiple of 2^16) and (v - limb) / 65536 is the exact carry.
  let v = a0 * b0;
  const r0 = v & 0xffff;
  v = (v - r0) / 65536 + a0 * b1 + a1 * b0;
  const r1 = v & 0xffff;
  v = (v - r1) / 65536 + a0 * b2 + a1 * b1 + a2 * b0;
  const r2 = v & 0xffff;
  v = (v - r2) / 65536 + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const r3 = v & 0xffff;
  v = (v - r3) / 65536 + a1 * b3 + a2 * b2 + a3 * b1;
  const r4 = v & 0xffff;
  v = (v - r4) / 65536 + a2 * b3 + a3 * b2;
  const r5 = v & 0xffff;
  v = (v - r5) / 65536 + a3 * b3;
  const r6 = v & 0xffff;
  const r7 = (v - r6) / 65536;
  wide.w0 = r0 | (r1 << 16);
  wide.w1 = r2 | (r3 << 16);
  wide.w2 = r4 | (r5 << 16);
  wide.w3 = r6 | (r7 << 16);
}

/** Signed 64 x 64 -> 128 (two's complement halves). */
export function mulS64(alo: number, ahi: number, blo: number, bhi: number): void {
  mulU64(alo, ahi, blo, bhi);
  // high128 -= (a < 0 ? b : 0) + (b < 0 ? a : 0), modulo 2^64.
  let lo = wide.w2 >>> 0, hi = wide.w3 | 0;
  if (ahi < 0) { const l = lo - (blo >>> 0); hi = (hi - bhi - (l < 0 ? 1 : 0)) | 0; lo = l >>> 0; }
  if (bhi < 0) { const l = lo - (alo >>> 0); hi = (hi - ahi - (l < 0 ? 1 : 0)) | 0; lo = l >>> 0; }
  wide.w2 = lo | 0;
  wide.w3 = hi;
}

/** A 64-bit (lo, hi) pair as a BigInt, unsigned. */
export function pairToBigU(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
