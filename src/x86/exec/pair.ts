/**
 * 64-bit shifts on (lo, hi) int32 pairs. Each returns lo and leaves hi in `pairOut.hi`.
 * Counts are 0..63; count 0 returns the input.
 */
export const pairOut = { hi: 0 };

// One exit each: compiled blocks put these bodies in place of a call (helper-inline.ts).
export function shl64(lo: number, hi: number, c: number): number {
  pairOut.hi = c === 0 ? hi : c < 32 ? (hi << c) | (lo >>> (32 - c)) : lo << (c - 32);
  return c === 0 ? lo : c < 32 ? lo << c : 0;
}

export function shr64(lo: number, hi: number, c: number): number {
  pairOut.hi = c === 0 ? hi : c < 32 ? hi >>> c | 0 : 0;
  return c === 0 ? lo : c < 32 ? (lo >>> c) | (hi << (32 - c)) : (hi >>> (c - 32)) | 0;
}

export function sar64(lo: number, hi: number, c: number): number {
  pairOut.hi = c === 0 ? hi : c < 32 ? hi >> c : hi >> 31;
  return c === 0 ? lo : c < 32 ? (lo >>> c) | (hi << (32 - c)) : hi >> (c - 32);
}

/** Bit k (0..63) of the pair. */
export function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}
