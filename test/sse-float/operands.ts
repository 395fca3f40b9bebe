/**
 * Operand generators for the SSE float differential test: raw lane bits biased toward what breaks
 * float code (NaNs of both kinds with payloads, infinities, subnormals, zeros, format edges,
 * integer-conversion boundaries) plus random bits and random "nice" values.
 */
import { F32, F64, type FloatFormat } from '../../src/x86/sse/float/format.js';
import type { Rng } from '../exec/rng.js';

const scratch = new DataView(new ArrayBuffer(8));

/** The raw bits of a (non-NaN) JS number in format f (f32: rounded to nearest by the DataView). */
function bitsOf(f: FloatFormat, x: number): bigint {
  if (f.bytes === 4) { scratch.setFloat32(0, x); return BigInt(scratch.getUint32(0)); }
  scratch.setFloat64(0, x);
  return scratch.getBigUint64(0);
}

function randomBits(rng: Rng, f: FloatFormat): bigint {
  return f.bytes === 4 ? rng.u32() : rng.u64();
}

/** sign | exponent field | fraction. */
function compose(f: FloatFormat, sign: number, e: bigint, frac: bigint): bigint {
  return (sign ? f.signBit : 0n) | (e << BigInt(f.fracBits)) | (frac & f.fracMask);
}

function specials(f: FloatFormat): bigint[] {
  const one = bitsOf(f, 1);
  const list = [0n, f.infinity, f.defaultNaN & ~f.signBit, f.quietBit | f.infinity | 1n, f.infinity | 1n, f.infinity | f.fracMask >> 1n,
    1n, f.fracMask, 1n << BigInt(f.fracBits), f.maxFinite, one, bitsOf(f, 0.5), bitsOf(f, 1.5), bitsOf(f, 2.5), bitsOf(f, 3),
    bitsOf(f, 2 ** 31), bitsOf(f, 2 ** 32), bitsOf(f, 2 ** 63), bitsOf(f, 2 ** 64), bitsOf(f, 2 ** 24), bitsOf(f, 2 ** 53)];
  return list.flatMap((v) => [v, v | f.signBit]);
}
const SPECIALS = new Map<FloatFormat, bigint[]>([[F32, specials(F32)], [F64, specials(F64)]]);

/** Boundaries where float -> int32/int64 conversions change behaviour, nudged by a few ulps. */
function conversionEdge(rng: Rng, f: FloatFormat): bigint {
  const base = bitsOf(f, rng.pick([2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 24, 2 ** 53, 0.5, 1, 2 ** 30]));
  const nudged = base + BigInt(rng.int(7) - 3);
  return rng.int(2) ? nudged | f.signBit : nudged;
}

export function floatOperand(rng: Rng, f: FloatFormat): bigint {
  const sign = rng.int(2);
  const maxE = f.expField;
  switch (rng.int(12)) {
    case 0: return rng.pick(SPECIALS.get(f) ?? []);
    case 1: { // NaN: quiet or signalling, random payload (nonzero for a SNaN)
      const quiet = rng.int(2) === 1;
      let frac = randomBits(rng, f) & (f.fracMask >> 1n);
      if (!quiet && frac === 0n) frac = 1n;
      return compose(f, sign, maxE, quiet ? frac | f.quietBit : frac);
    }
    case 2: return compose(f, sign, 0n, (randomBits(rng, f) >> BigInt(rng.int(f.fracBits))) | 1n);  // subnormal
    case 3: return randomBits(rng, f);
    case 4: case 5: { // nice: k / 2^j
      const k = rng.int(1 << rng.pick([2, 6, 12, 20]));
      return bitsOf(f, (sign ? -k : k) / 2 ** rng.int(12));
    }
    case 6: return conversionEdge(rng, f);
    case 7: { // exponent near the bottom or the top of the range
      const e = rng.int(2) ? BigInt(1 + rng.int(3)) : maxE - 1n - BigInt(rng.int(3));
      return compose(f, sign, e, randomBits(rng, f));
    }
    case 8: { // exponent spread over the whole range, short fraction (products and sums round less often)
      return compose(f, sign, BigInt(1 + rng.int(Number(maxE) - 1)), randomBits(rng, f) << BigInt(rng.int(f.fracBits)));
    }
    default: { // moderate exponent, random fraction
      const bias = BigInt(f.bias);
      return compose(f, sign, bias + BigInt(rng.int(61) - 30), randomBits(rng, f));
    }
  }
}

/** The value of raw bits (f32 or f64) as a JS number. */
function valueOf(f: FloatFormat, raw: bigint): number {
  if (f.bytes === 4) { scratch.setUint32(0, Number(raw)); return scratch.getFloat32(0); }
  scratch.setBigUint64(0, raw);
  return scratch.getFloat64(0);
}

/**
 * An operand that brings a * b (or a / b) near a boundary of the format: the smallest normal
 * (tininess before/after rounding), the overflow threshold, or the smallest subnormal.
 */
function boundaryPartner(rng: Rng, f: FloatFormat, a: bigint, divide: boolean): bigint {
  const av = valueOf(f, a);
  const target = rng.pick([2 ** f.emin, 2 ** f.emin * (1 - 2 ** -f.precision), 2 ** (f.emax + 1) * (1 - 2 ** -(f.precision + 1)), 2 ** (f.emin - f.precision + 1)]);
  const want = divide ? av / target : target / av;
  if (!Number.isFinite(av) || av === 0 || !Number.isFinite(want) || want === 0) return floatOperand(rng, f);
  const mask = (1n << BigInt(f.bytes * 8)) - 1n;
  return (bitsOf(f, want) + BigInt(rng.int(5) - 2)) & mask;
}

/** A second operand related to a (equal, negated, a few ulps away, rescaled, at a boundary) or independent. */
export function relatedOperand(rng: Rng, f: FloatFormat, a: bigint): bigint {
  const mask = (1n << BigInt(f.bytes * 8)) - 1n;
  switch (rng.int(10)) {
    case 5: return boundaryPartner(rng, f, a, false);
    case 6: return boundaryPartner(rng, f, a, true);
    case 0: return a;
    case 1: return a ^ f.signBit;
    case 2: return (a + BigInt(rng.int(9) - 4)) & mask;
    case 3: return (a ^ f.signBit) + BigInt(rng.int(5) - 2) & mask;
    case 4: return (a + (BigInt(rng.int(61) - 30) << BigInt(f.fracBits))) & mask;
    default: return floatOperand(rng, f);
  }
}

/** A 32- or 64-bit integer operand (as an unsigned bit pattern). */
export function intOperand(rng: Rng, bytes: 4 | 8): bigint {
  const v = rng.int(4) === 0 ? BigInt(rng.int(2 ** 26)) << BigInt(rng.int(bytes * 8 - 26)) : rng.value();
  const w = BigInt.asUintN(bytes * 8, rng.int(2) ? v : -v);
  return w;
}
