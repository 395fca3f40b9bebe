/**
 * The common case without bigint: both operands normal, the result comfortably inside the normal
 * range. The operation runs in JS doubles (correctly rounded to nearest) and an error-free
 * transformation (TwoSum, Dekker's TwoProduct) gives the sign of the rounding error, which decides
 * directed rounding and PE. f32 results then round from the double: double rounding is harmless
 * for + - * / sqrt since 53 >= 2*24 + 2 (Figueroa), and the double's own error sign breaks the
 * remaining ties for directed modes. Anything else (NaN, infinity, zero, subnormal, a result near
 * the range limits) returns false and goes to the exact bigint path.
 */
import type { FpContext } from './context.js';
import type { FloatFormat } from './format.js';
import { getU32, setU32 } from './image.js';
import { PE, RC_DOWN, RC_NEAREST, RC_UP } from './mxcsr.js';

export const enum FastOp { Add, Sub, Mul, Div, Sqrt }

// Scratch views for moving between raw bits and values (the host is little-endian, as x86 is).
const f64 = new Float64Array(1);
const f32 = new Float32Array(f64.buffer, 0, 1);
const u32 = new Uint32Array(f64.buffer);

/** The value of lane i when it is a normal number, else NaN (the caller then takes the slow path). */
export function normalValue(img: Uint8Array, f: FloatFormat, i: number): number {
  if (f.bytes === 4) {
    const bits = getU32(img, i);
    const e = (bits >>> 23) & 0xff;
    if (e === 0 || e === 0xff) return NaN;
    u32[0] = bits;
    return f32[0];
  }
  const hi = getU32(img, 2 * i + 1);
  const e = (hi >>> 20) & 0x7ff;
  if (e === 0 || e === 0x7ff) return NaN;
  u32[0] = getU32(img, 2 * i);
  u32[1] = hi;
  return f64[0];
}

/** The value of lane i when it is zero, normal or infinite; NaN for a NaN or a subnormal. */
export function plainValue(img: Uint8Array, f: FloatFormat, i: number): number {
  if (f.bytes === 4) {
    const bits = getU32(img, i);
    const e = (bits >>> 23) & 0xff;
    if ((e === 0 && (bits & 0x7fffff) !== 0) || (e === 0xff && (bits & 0x7fffff) !== 0)) return NaN;
    u32[0] = bits;
    return f32[0];
  }
  const lo = getU32(img, 2 * i), hi = getU32(img, 2 * i + 1);
  const e = (hi >>> 20) & 0x7ff;
  const fracZero = lo === 0 && (hi & 0xfffff) === 0;
  if ((e === 0 || e === 0x7ff) && !fracZero) return NaN;
  u32[0] = lo;
  u32[1] = hi;
  return f64[0];
}

const SPLIT = 134217729; // 2^27 + 1

/**
 * The exact error a * b - RN(a * b) (Dekker), p = RN(a * b). Exact while |a|, |b| and |a * b| are
 * at most 2^995 (no partial product overflows) and |a * b| >= 2^-969 (none underflows).
 */
function productError(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

const TWO_M969 = 2 ** -969, TWO_995 = 2 ** 995;

/** Next double away from r toward +inf (up) or -inf; r finite nonzero, far from the range limits. */
function stepDouble(r: number, up: boolean): number {
  f64[0] = r;
  // Moving away from zero increments the magnitude bits, toward zero decrements them.
  const away = up === r > 0;
  let lo = u32[0], hi = u32[1];
  if (away) { lo = (lo + 1) >>> 0; if (lo === 0) hi++; } else { if (lo === 0) hi--; lo = (lo - 1) >>> 0; }
  u32[0] = lo; u32[1] = hi;
  return f64[0];
}

function stepFloat(v: number, up: boolean): number {
  f32[0] = v;
  const away = up === v > 0;
  u32[0] = away ? u32[0] + 1 : u32[0] - 1;
  return f32[0];
}

/**
 * Rounds the exact result r + (error of sign errSign) to the format in mode rc; raises PE when
 * inexact. r is the double nearest the exact result.
 */
export function roundFrom(ctx: FpContext, f: FloatFormat, r: number, errSign: number): number {
  const rc = ctx.rc;
  if (f.bytes === 8) {
    if (errSign === 0) return r;
    ctx.raise(PE);
    if (rc === RC_NEAREST) return r;
    if (rc === RC_DOWN) return errSign < 0 ? stepDouble(r, false) : r;
    if (rc === RC_UP) return errSign > 0 ? stepDouble(r, true) : r;
    return (errSign < 0) === (r > 0) ? stepDouble(r, r < 0) : r;
  }
  const v = Math.fround(r);
  // Sign of exact - v: r - v is exact (the two are within a factor of 2); ties fall to errSign.
  const d = r - v;
  const s = d !== 0 ? (d > 0 ? 1 : -1) : errSign;
  if (s === 0) return v;
  ctx.raise(PE);
  if (rc === RC_NEAREST) return v;
  if (rc === RC_DOWN) return s < 0 ? stepFloat(v, false) : v;
  if (rc === RC_UP) return s > 0 ? stepFloat(v, true) : v;
  return (s < 0) === (v > 0) ? stepFloat(v, v < 0) : v;
}

/** The double result's bounds that keep the rounded result normal and finite whatever the mode. */
export function inSafeRange(f: FloatFormat, r: number): boolean {
  const m = Math.abs(r);
  return f.bytes === 4 ? m >= 2 ** -125 && m <= 2 ** 127 : m >= 2 ** -1021 && m <= 2 ** 1023;
}

export function store(out: Uint8Array, f: FloatFormat, io: number, v: number): void {
  if (f.bytes === 4) {
    f32[0] = v;
    setU32(out, io, u32[0]);
  } else {
    f64[0] = v;
    setU32(out, 2 * io, u32[0]);
    setU32(out, 2 * io + 1, u32[1]);
  }
}

export const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

/**
 * out lane io = a lane ia (op) b lane ib, when both are normal and the result safely normal.
 * For Sqrt only b is read. Returns false (nothing written or raised) otherwise.
 */
export function fastBinary(ctx: FpContext, f: FloatFormat, op: FastOp, a: Uint8Array, ia: number, b: Uint8Array, ib: number, out: Uint8Array, io: number): boolean {
  const y = normalValue(b, f, ib);
  if (y !== y) return false;
  let r: number, errSign: number;
  if (op === FastOp.Sqrt) {
    if (y < 0 || (f.bytes === 8 && (y < TWO_M969 || y > TWO_995))) return false;
    r = Math.sqrt(y);
    // sqrt(y) - r has the sign of y - r*r.
    const p = r * r;
    errSign = sign((y - p) - productError(r, r, p));
  } else {
    const x = normalValue(a, f, ia);
    if (x !== x) return false;
    if (op === FastOp.Add || op === FastOp.Sub) {
      const yy = op === FastOp.Sub ? -y : y;
      r = x + yy;
      // TwoSum: the exact error of the addition.
      const bv = r - x;
      errSign = sign((x - (r - bv)) + (yy - bv));
    } else if (op === FastOp.Mul) {
      r = x * y;
      if (f.bytes === 4) errSign = 0; // 24 x 24 bits fit a double
      else {
        const m = Math.abs(r);
        if (m < TWO_M969 || m > TWO_995 || Math.abs(x) > TWO_995 || Math.abs(y) > TWO_995) return false;
        errSign = sign(productError(x, y, r));
      }
    } else {
      r = x / y;
      // x/y - r has the sign of (x - r*y) * sign(y); x - RN(r*y) is exact (Sterbenz).
      const p = r * y;
      const m = Math.abs(x);
      if (m < TWO_M969 || m > TWO_995 || Math.abs(r) > TWO_995 || Math.abs(y) > TWO_995) return false;
      errSign = sign((x - p) - productError(r, y, p)) * sign(y);
    }
  }
  if (!inSafeRange(f, r)) return false;
  store(out, f, io, roundFrom(ctx, f, r, errSign));
  return true;
}
