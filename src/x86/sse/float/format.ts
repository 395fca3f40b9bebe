/**
 * The two IEEE binary formats SSE computes in, and the decoding of raw lane bits into a sign,
 * an integer significand and a power-of-two exponent (value = (-1)^sign * sig * 2^exp), which is
 * what the exact arithmetic in this directory works on. Raw bits are bigint so a NaN's payload is
 * never touched by a JS number (which may quiet or canonicalise it).
 */
export interface FloatFormat {
  readonly name: 'f32' | 'f64';
  readonly bytes: 4 | 8;
  /** Significand bits including the implicit one. */
  readonly precision: number;
  readonly emin: number;
  readonly emax: number;
  readonly fracBits: number;
  readonly bias: number;
  readonly expField: bigint;   // all-ones exponent field value
  readonly fracMask: bigint;
  readonly signBit: bigint;
  readonly quietBit: bigint;
  /** The QNaN floating-point indefinite: sign set, quiet bit set, payload zero. */
  readonly defaultNaN: bigint;
  readonly maxFinite: bigint;
  readonly infinity: bigint;
}

function format(name: 'f32' | 'f64', bytes: 4 | 8, precision: number, expBits: number): FloatFormat {
  const fracBits = precision - 1;
  const bias = (1 << (expBits - 1)) - 1;
  const expField = (1n << BigInt(expBits)) - 1n;
  const signBit = 1n << BigInt(bytes * 8 - 1);
  const quietBit = 1n << BigInt(fracBits - 1);
  const infinity = expField << BigInt(fracBits);
  return {
    name, bytes, precision, emin: 1 - bias, emax: bias, fracBits, bias, expField,
    fracMask: (1n << BigInt(fracBits)) - 1n, signBit, quietBit,
    defaultNaN: signBit | infinity | quietBit, maxFinite: infinity - 1n, infinity,
  };
}

export const F32 = format('f32', 4, 24, 8);
export const F64 = format('f64', 8, 53, 11);

export const enum Kind { Zero, Finite, Inf, QNaN, SNaN }

/** A decoded operand. Finite: sig > 0. Zero/Inf: sig 0. NaN: raw holds the payload. */
export interface Unpacked {
  kind: Kind;
  sign: 0 | 1;
  sig: bigint;
  exp: number;
  /** A subnormal operand that was not flushed by DAZ (it raises DE where the instruction checks operands). */
  denormal: boolean;
  raw: bigint;
}

/** Decodes raw bits; daz: MXCSR.DAZ, which reads subnormal operands as zeros of the same sign. */
export function unpack(f: FloatFormat, raw: bigint, daz: boolean): Unpacked {
  const sign = (raw & f.signBit) !== 0n ? 1 : 0;
  const e = (raw >> BigInt(f.fracBits)) & f.expField;
  const frac = raw & f.fracMask;
  if (e === f.expField) {
    const kind = frac === 0n ? Kind.Inf : (frac & f.quietBit) !== 0n ? Kind.QNaN : Kind.SNaN;
    return { kind, sign, sig: 0n, exp: 0, denormal: false, raw };
  }
  if (e === 0n) {
    if (frac === 0n || daz) return { kind: Kind.Zero, sign, sig: 0n, exp: 0, denormal: false, raw };
    return { kind: Kind.Finite, sign, sig: frac, exp: f.emin - f.fracBits, denormal: true, raw };
  }
  return { kind: Kind.Finite, sign, sig: frac | (1n << BigInt(f.fracBits)), exp: Number(e) - f.bias - f.fracBits, denormal: false, raw };
}

export function isNaN(u: Unpacked): boolean {
  return u.kind === Kind.QNaN || u.kind === Kind.SNaN;
}

export function signedZero(f: FloatFormat, sign: 0 | 1): bigint {
  return sign ? f.signBit : 0n;
}

export function signedInfinity(f: FloatFormat, sign: 0 | 1): bigint {
  return sign ? f.signBit | f.infinity : f.infinity;
}

/** Bit length of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0x20000000000000n) {
    // Below 2^53 the number is exact: take the two 32-bit halves.
    const n = Number(x);
    const hi = Math.floor(n / 4294967296);
    return hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(n >>> 0);
  }
  const h = x.toString(16);
  return h.length * 4 - (Math.clz32(parseInt(h[0], 16)) - 28);
}
