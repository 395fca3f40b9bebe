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

const limbsA = new Float64Array(4), limbsB = new Float64Array(4), col = new Float64Array(8);

/** Unsigned 64 x 64 -> 128: (alo, ahi) * (blo, bhi) -> wide.w0..w3. */
export function mulU64(alo: number, ahi: number, blo: number, bhi: number): void {
  limbsA[0] = alo & 0xffff; limbsA[1] = alo >>> 16; limbsA[2] = ahi & 0xffff; limbsA[3] = ahi >>> 16;
  limbsB[0] = blo & 0xffff; limbsB[1] = blo >>> 16; limbsB[2] = bhi & 0xffff; limbsB[3] = bhi >>> 16;
  col.fill(0);
  for (let i = 0; i < 4; i++) {
    const ai = limbsA[i];
    if (ai === 0) continue;
    for (let j = 0; j < 4; j++) col[i + j] += ai * limbsB[j];
  }
  // Propagate carries: each column < 4 * 2^32 plus carry, exact in doubles.
  let carry = 0;
  for (let k = 0; k < 8; k++) {
    const v = col[k] + carry;
    carry = Math.floor(v / 65536);
    col[k] = v - carry * 65536;
  }
  wide.w0 = (col[0] + col[1] * 65536) | 0;
  wide.w1 = (col[2] + col[3] * 65536) | 0;
  wide.w2 = (col[4] + col[5] * 65536) | 0;
  wide.w3 = (col[6] + col[7] * 65536) | 0;
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
