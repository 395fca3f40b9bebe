/**
 * Exact wide multiplication without BigInt: 32x32 -> 64 and 64x64 -> 128 in doubles (every
 * column sum stays below 2^53; a 32 x 32 product's high word is recovered by rounding). Results
 * land in `wide`.
 */

/** The last product: w0 (lowest) .. w3 (highest) int32 words. */
export const wide = { w0: 0, w1: 0, w2: 0, w3: 0 };

/**
 * 2^-32: x * TWO_M32 is exactly x / 2^32 (a power of two). mulU32 and mulS32 multiply by it so
 * that their bodies have no `/`, which compiled blocks' helper inliner does not scan.
 */
export const TWO_M32 = 2 ** -32;

/**
 * Unsigned a * b (uint32 values) -> wide.w0 (lo), wide.w1 (hi). The double product p is within
 * 2^10 of the exact one (53-bit mantissa, product < 2^64) and Math.imul gives the exact low
 * word, so (p - low) / 2^32 lies within 2^-21 of the exact high word: rounding recovers it.
 */
export function mulU32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const lo = Math.imul(a, b);
  wide.w0 = lo;
  wide.w1 = Math.round((a * b - (lo >>> 0)) * TWO_M32) | 0;
}

/** Signed a * b (int32 values) -> wide.w0, wide.w1 (the same rounding: |product| < 2^62). */
export function mulS32(a: number, b: number): void {
  a |= 0; b |= 0;
  const lo = Math.imul(a, b);
  wide.w0 = lo;
  wide.w1 = Math.round((a * b - (lo >>> 0)) * TWO_M32) | 0;
}

/**
 * Unsigned 64 x 64 -> 128: (alo, ahi) * (blo, bhi) -> wide.w0..w3 from four 32 x 32 products
 * (mulU32's rounding) summed by 32-bit columns; each column sum stays below 2^34, exact.
 */
export function mulU64(alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo >>> 0, a1 = ahi >>> 0, b0 = blo >>> 0, b1 = bhi >>> 0;
  const l00 = Math.imul(a0, b0), l01 = Math.imul(a0, b1), l10 = Math.imul(a1, b0), l11 = Math.imul(a1, b1);
  const h00 = Math.round((a0 * b0 - (l00 >>> 0)) / 4294967296);
  const h01 = Math.round((a0 * b1 - (l01 >>> 0)) / 4294967296);
  const h10 = Math.round((a1 * b0 - (l10 >>> 0)) / 4294967296);
  const h11 = Math.round((a1 * b1 - (l11 >>> 0)) / 4294967296);
  const c1 = h00 + (l01 >>> 0) + (l10 >>> 0);
  const k1 = Math.floor(c1 / 4294967296);
  const c2 = h01 + h10 + (l11 >>> 0) + k1;
  const k2 = Math.floor(c2 / 4294967296);
  wide.w0 = l00;
  wide.w1 = c1 | 0;
  wide.w2 = c2 | 0;
  wide.w3 = (h11 + k2) | 0;
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
