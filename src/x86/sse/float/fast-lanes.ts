/**
 * Fast paths without bigint for comparisons and conversions, on operands that are zero, normal or
 * infinite (a NaN or a subnormal returns false / undefined and the caller takes the exact path).
 * None of these can raise anything but PE, so no other flag logic is needed here.
 */
import type { FpContext } from './context.js';
import { F32, type FloatFormat } from './format.js';
import { getU32, setU32 } from './image.js';
import { PE, RC_DOWN, RC_NEAREST, RC_UP, RC_ZERO } from './mxcsr.js';
import { inSafeRange, normalValue, plainValue, roundFrom, store } from './fast.js';

/** -1/0/1 comparing lane ia of a with lane ib of b, or undefined (NaN or subnormal operand). */
export function fastCompare(f: FloatFormat, a: Uint8Array, ia: number, b: Uint8Array, ib: number): -1 | 0 | 1 | undefined {
  const x = plainValue(a, f, ia), y = plainValue(b, f, ib);
  if (x !== x || y !== y) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Copies lane i of a raw into out lane i (MIN/MAX pick an operand unchanged). */
export function copyLane(out: Uint8Array, src: Uint8Array, f: FloatFormat, i: number): void {
  const words = f.bytes / 4;
  for (let w = 0; w < words; w++) setU32(out, i * words + w, getU32(src, i * words + w));
}

/** f32 <-> f64 of a normal lane whose result is safely normal. */
export function fastConvertFloat(ctx: FpContext, from: FloatFormat, to: FloatFormat, src: Uint8Array, i: number, out: Uint8Array, io: number): boolean {
  const v = normalValue(src, from, i);
  if (v !== v || !inSafeRange(to, v)) return false;
  store(out, to, io, to === F32 ? roundFrom(ctx, to, v, 0) : v);
  return true;
}

/** An integer of at most 53 bits to format f, rounded by MXCSR.RC (exact in a double, so no error term). */
export function fastIntToFloat(ctx: FpContext, f: FloatFormat, v: number, out: Uint8Array, io: number): void {
  store(out, f, io, v === 0 ? 0 : roundFrom(ctx, f, v, 0));
}

/** Round half to even of a double. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);   // halves go up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Lane i of format f rounded to an integer in [-limit, limit), or undefined when the exact path
 * must decide (NaN, subnormal, infinity, out of that range: the exact path raises IE for those
 * beyond the destination's range). limit is at most 2^53, so the result is exact in a double.
 */
function fastFloatToInteger(ctx: FpContext, f: FloatFormat, src: Uint8Array, i: number, truncate: boolean, limit: number): number | undefined {
  const v = plainValue(src, f, i);
  if (v !== v || !(Math.abs(v) < limit)) return undefined;
  const rc = truncate ? RC_ZERO : ctx.rc;
  const r = rc === RC_NEAREST ? roundHalfEven(v) : rc === RC_DOWN ? Math.floor(v) : rc === RC_UP ? Math.ceil(v) : Math.trunc(v);
  if (r < -limit || r >= limit) return undefined;
  if (r !== v) ctx.raise(PE);
  return r;
}

/** Lane i to a signed 32-bit integer (see fastFloatToInteger). */
export function fastFloatToInt32(ctx: FpContext, f: FloatFormat, src: Uint8Array, i: number, truncate: boolean): number | undefined {
  const r = fastFloatToInteger(ctx, f, src, i, truncate, 2 ** 31);
  return r === undefined ? undefined : r | 0;
}

/** Lane i to a signed 64-bit integer written to out bytes 0..8, when its magnitude is below 2^53. */
export function fastFloatToInt64(ctx: FpContext, f: FloatFormat, src: Uint8Array, i: number, truncate: boolean, out: Uint8Array): boolean {
  const r = fastFloatToInteger(ctx, f, src, i, truncate, 2 ** 53);
  if (r === undefined) return false;
  const hi = Math.floor(r / 2 ** 32);
  setU32(out, 0, (r - hi * 2 ** 32) >>> 0);
  setU32(out, 1, hi >>> 0);
  return true;
}
