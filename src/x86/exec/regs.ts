/**
 * General-register access by operand size, over ExecContext.regs (int32 [lo, hi] pairs).
 *
 * Values travel as (lo, hi): functions return the low int32 and leave the high int32 in
 * `half.hi` (0 for sizes below 8), so no object or BigInt is allocated per access.
 * Sizes 1 and 2 return the zero-extended value; size 4 and 8 return lo as int32.
 */
import type { ExecContext } from './context.js';
import { RIP_LO as RIP_LO_ } from './context.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const RIP_LO = RIP_LO_;

/** The high half of the last 64-bit value returned by a reader in this module family. */
export const half = { hi: 0 };

/**
 * Where byte register n lives, for code specialised at decode time: the regs index of the low
 * half of its register and the bit offset in it (4..7 without any REX prefix are AH CH DH BH).
 */
export function byteRegister(n: number, rex: number): { i: number; shift: 0 | 8 } {
  return rex === 0 && n >= 4 && n < 8 ? { i: (n - 4) << 1, shift: 8 } : { i: n << 1, shift: 0 };
}

/**
 * Reads register n at size. Byte registers 4..7 without any REX prefix are AH CH DH BH.
 */
export function readGpr(ctx: ExecContext, n: number, size: number, rex: number): number {
  const r = ctx.regs;
  half.hi = 0;
  switch (size) {
    case 1:
      if (rex === 0 && n >= 4 && n < 8) return (r[(n - 4) << 1] >> 8) & 0xff;
      return r[n << 1] & 0xff;
    case 2: return r[n << 1] & 0xffff;
    case 4: return r[n << 1];
    default:
      half.hi = r[(n << 1) + 1];
      return r[n << 1];
  }
}

/**
 * Writes register n at size: 8/16-bit writes merge into the register, 32-bit writes zero the
 * upper half (as in 64-bit mode; in legacy modes the upper half is not visible).
 */
export function writeGpr(ctx: ExecContext, n: number, size: number, rex: number, lo: number, hi: number): void {
  const r = ctx.regs;
  switch (size) {
    case 1:
      if (rex === 0 && n >= 4 && n < 8) {
        const i = (n - 4) << 1;
        r[i] = (r[i] & ~0xff00) | ((lo & 0xff) << 8);
      } else {
        const i = n << 1;
        r[i] = (r[i] & ~0xff) | (lo & 0xff);
      }
      return;
    case 2: {
      const i = n << 1;
      r[i] = (r[i] & ~0xffff) | (lo & 0xffff);
      return;
    }
    case 4:
      r[n << 1] = lo;
      r[(n << 1) + 1] = 0;
      return;
    default:
      r[n << 1] = lo;
      r[(n << 1) + 1] = hi;
  }
}

/** Sets RIP from a (lo, hi) pair. */
export function setRip(ctx: ExecContext, lo: number, hi: number): void {
  ctx.regs[RIP_LO] = lo;
  ctx.regs[RIP_LO + 1] = hi;
}

/** Masks for operand sizes 1, 2, 4 (index by size). */
export const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];
/** Sign bit per operand size (index by size; 8 means the sign bit of the high half). */
export const SIZE_SIGN = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];
