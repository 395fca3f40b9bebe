/**
 * The constants FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ load, and the high-precision
 * values the transcendental functions reduce with. Each irrational constant is kept to 128 bits
 * (leading bit at 2^127, scaled by 2^e) and rounded to 64 bits by FCW.RC when loaded, without
 * raising the precision exception (Intel SDM vol. 2, FLD1/FLDL2T/...: "rounded ... as specified
 * by the RC field"). Values from a 80-digit decimal computation (Machin's formula for pi, the
 * natural logarithm for the others).
 */
import { BIAS, type Ext, INT_BIT, ZERO } from './ext80.js';
import { RC_NEAREST, RC_UP } from './round.js';

/** A positive constant m * 2^(e - 127) with m of exactly 128 bits. */
export interface Wide { m: bigint; e: number }

export const PI_128: Wide = { m: 0xc90fdaa22168c234c4c6628b80dc1cd1n, e: 1 };
export const LN2_128: Wide = { m: 0xb17217f7d1cf79abc9e3b39803f2f6afn, e: -1 };
export const L2T_128: Wide = { m: 0xd49a784bcd1b8afe492bf6ff4dafdb4cn, e: 1 };
export const L2E_128: Wide = { m: 0xb8aa3b295c17f0bbbe87fed0691d3e88n, e: 0 };
export const LG2_128: Wide = { m: 0x9a209a84fbcff7988f8959ac0b7c9178n, e: -2 };

/** The constant rounded to the register format by rounding control rc (no flags: these are not results). */
export function constantExt(c: Wide, rc: number): Ext {
  let sig = c.m >> 64n;
  const rest = c.m & ((1n << 64n) - 1n);
  const half = 1n << 63n;
  // The 128-bit values are themselves truncations: their tail is never exactly zero or half.
  const up = rc === RC_NEAREST ? rest >= half : rc === RC_UP;
  if (up) sig += 1n;
  return { sign: 0, exp: c.e + BIAS, sig };
}

const ONE: Ext = Object.freeze({ sign: 0, exp: BIAS, sig: INT_BIT });

const byRc = (c: Wide): ((rc: number) => Ext) => {
  const values = [0, 1, 2, 3].map((rc) => Object.freeze(constantExt(c, rc)));
  return (rc) => values[rc]!;
};

/** By D9 E8+k: 1, log2(10), log2(e), pi, log10(2), ln(2), +0 (frozen values, by RC). */
export const CONSTANTS: ((rc: number) => Ext)[] = [
  () => ONE,
  byRc(L2T_128),
  byRc(L2E_128),
  byRc(PI_128),
  byRc(LG2_128),
  byRc(LN2_128),
  () => ZERO,
];
