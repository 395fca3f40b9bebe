/**
 * 64-bit shifts on (lo, hi) int32 pairs. Each returns lo and leaves hi in `pairOut.hi`.
 * Counts are 0..63; count 0 returns the input.
 */
export const pairOut = { hi: 0 };

export function shl64(lo: number, hi: number, c: number): number {
  if (c === 0) { pairOut.hi = hi; return lo; }
  if (c < 32) { pairOut.hi = (hi << c) | (lo >>> (32 - c)); return lo << c; }
  pairOut.hi = lo << (c - 32);
  return 0;
}

export function shr64(lo: number, hi: number, c: number): number {
  if (c === 0) { pairOut.hi = hi; return lo; }
  if (c < 32) { pairOut.hi = hi >>> c | 0; return (lo >>> c) | (hi << (32 - c)); }
  pairOut.hi = 0;
  return (hi >>> (c - 32)) | 0;
}

export function sar64(lo: number, hi: number, c: number): number {
  if (c === 0) { pairOut.hi = hi; return lo; }
  if (c < 32) { pairOut.hi = hi >> c; return (lo >>> c) | (hi << (32 - c)); }
  pairOut.hi = hi >> 31;
  return hi >> (c - 32);
}

/** Bit k (0..63) of the pair. */
export function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}
