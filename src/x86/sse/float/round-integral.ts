/** ROUNDPS/PD/SS/SD on one lane: round to an integral value in the same format. */
import { Kind, isNaN, signedZero, unpack, type FloatFormat } from './format.js';
import type { FpContext } from './context.js';
import { IE, PE, type RoundingControl } from './mxcsr.js';
import { lastInexact, roundSignificand, roundToFormat } from './round.js';

/**
 * imm8[1:0] is the rounding mode unless imm8[2] selects MXCSR.RC; imm8[3] suppresses PE.
 * SNaN: IE and quieted. DE is never raised (SDM: ROUNDPS signals only IE and PE).
 */
export function roundIntegral(ctx: FpContext, f: FloatFormat, raw: bigint, imm8: number): bigint {
  const u = unpack(f, raw, ctx.daz);
  if (isNaN(u)) {
    if (u.kind === Kind.SNaN) ctx.raise(IE);
    return raw | f.quietBit;
  }
  if (u.kind === Kind.Zero) return signedZero(f, u.sign);
  if (u.kind === Kind.Inf || u.exp >= 0) return raw;
  const rc = (imm8 & 4 ? ctx.rc : imm8 & 3) as RoundingControl;
  const q = roundSignificand(u.sig, -u.exp, false, u.sign, rc);
  if (lastInexact && !(imm8 & 8)) ctx.raise(PE);
  if (q === 0n) return signedZero(f, u.sign);
  // q fits the format's precision, so this rounding is exact and raises nothing.
  return roundToFormat(ctx, f, u.sign, q, 0, false, rc);
}
