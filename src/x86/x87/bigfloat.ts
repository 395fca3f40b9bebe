/**
 * A small arbitrary-precision binary float (value = m * 2^e, m a signed bigint kept to PREC
 * bits, truncated) for the transcendental functions: enough guard bits (about 2^-130 relative
 * error) that rounding the final result to 64 bits is almost always the correctly rounded one.
 */
import { bitLength } from './ext80.js';

export interface BF { m: bigint; e: number }

export const PREC = 160;

export function bf(m: bigint, e: number): BF {
  const neg = m < 0n;
  let a = neg ? -m : m;
  if (a === 0n) return { m: 0n, e: 0 };
  const n = bitLength(a);
  if (n > PREC) { a >>= BigInt(n - PREC); e += n - PREC; } else if (n < PREC) { a <<= BigInt(PREC - n); e -= PREC - n; }
  return { m: neg ? -a : a, e };
}

export const ZERO_BF: BF = { m: 0n, e: 0 };
export const fromInt = (v: bigint): BF => bf(v, 0);
export const neg = (a: BF): BF => ({ m: -a.m, e: a.e });
export const isZero = (a: BF): boolean => a.m === 0n;

export function add(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  if (a.e < b.e) [a, b] = [b, a];
  const d = a.e - b.e;
  // A far smaller b still moves a by one unit below its last bit when it lowers a's
  // magnitude (truncation keeps the direction), so results just under an exact value stay under.
  if (d > PREC + 8) return bf((a.m << BigInt(PREC + 16)) + (b.m < 0n ? -1n : 1n), a.e - PREC - 16);
  return bf((a.m << BigInt(d)) + b.m, b.e);
}
export const sub = (a: BF, b: BF): BF => add(a, neg(b));
export const mul = (a: BF, b: BF): BF => bf(a.m * b.m, a.e + b.e);
export function div(a: BF, b: BF): BF {
  if (b.m === 0n) throw new RangeError('bigfloat: division by zero');
  return bf((a.m << BigInt(PREC + 4)) / b.m, a.e - b.e - PREC - 4);
}
export const ldexp = (a: BF, n: number): BF => ({ m: a.m, e: a.e + n });

export function sqrt(a: BF): BF {
  if (a.m <= 0n) return ZERO_BF;
  let m = a.m << BigInt(PREC + 2);
  let e = a.e - PREC - 2;
  if (e % 2 !== 0) { m <<= 1n; e -= 1; }
  let x = 1n << BigInt(Math.ceil(bitLength(m) / 2));
  for (;;) {
    const y = (x + m / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  return bf(x, e / 2);
}

/** Compares |a| with 2^k. */
export function exponentOf(a: BF): number {
  return a.m === 0n ? -Infinity : a.e + bitLength(a.m < 0n ? -a.m : a.m) - 1;
}

/** Sums series terms until they fall below 2^-(PREC + 8) relative to `scale`. */
export function negligible(term: BF, scale: number): boolean {
  return term.m === 0n || exponentOf(term) < scale - PREC - 8;
}

export function cmp(a: BF, b: BF): number {
  const d = sub(a, b);
  return d.m === 0n ? 0 : d.m < 0n ? -1 : 1;
}
