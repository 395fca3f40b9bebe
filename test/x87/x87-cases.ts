/**
 * Random x87 test cases: register-format, single, double, integer and BCD operands biased to
 * the values that break floating-point code (zeros, denormals, pseudo-denormals, unnormals,
 * infinities, quiet and signalling NaNs, the indefinite, exponent extremes, rounding ties,
 * integer boundaries), random precision/rounding control and exception masks, a random
 * register stack (TOP, empty and full registers) and sometimes pending exceptions.
 */
import { Rng } from '../exec/rng.js';
import { IMG_BYTES, MEM_BYTES, type X87Case } from './x87-oracle.js';

const BIAS = 16383;

function bytesOf(v: bigint, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = BigInt.asUintN(8 * n, v);
  for (let k = 0; k < n; k++) { b[k] = Number(x & 0xffn); x >>= 8n; }
  return b;
}

function u64(rng: Rng): bigint { return rng.u64(); }

/** A random significand with a few set bits or a tie pattern at a precision boundary. */
function significand(rng: Rng): bigint {
  switch (rng.int(6)) {
    case 0: return (1n << 63n) | (u64(rng) & ((1n << 63n) - 1n));
    case 1: { // a tie or near-tie at 24/53/64 bits
      const p = rng.pick([24, 53, 64]);
      const base = (1n << 63n) | ((u64(rng) >> BigInt(p)) << BigInt(64 - p));
      const below = BigInt(64 - p);
      if (below === 0n) return base;
      const half = 1n << (below - 1n);
      return base | rng.pick([half, half - 1n, half + 1n, 0n, (1n << below) - 1n]);
    }
    case 2: return 1n << 63n;
    case 3: return (1n << 63n) | (BigInt(rng.int(256)) << 55n);
    case 4: return 0xffffffffffffffffn;
    default: return (1n << 63n) | (u64(rng) & 0xffffffffffn);
  }
}

/** 10 bytes of a register-format value. */
export function randomExt(rng: Rng): Uint8Array {
  const sign = rng.int(2);
  let exp: number, sig: bigint;
  switch (rng.int(20)) {
    case 0: exp = 0; sig = 0n; break;
    case 1: exp = 0; sig = u64(rng) >> BigInt(1 + rng.int(63)); if (sig === 0n) sig = 1n; break;
    case 2: exp = 0; sig = significand(rng); break; // pseudo-denormal
    case 3: exp = 0x7fff; sig = 1n << 63n; break;
    case 4: exp = 0x7fff; sig = (3n << 62n) | (rng.int(2) ? u64(rng) >> 2n : 0n); break; // QNaN / indefinite
    case 5: exp = 0x7fff; sig = (1n << 63n) | ((u64(rng) >> 2n) | 1n); break; // SNaN
    case 6: exp = rng.pick([0x7fff, 1 + rng.int(0x7ffe)]); sig = u64(rng) >> 1n; break; // unsupported
    case 7: exp = rng.pick([1, 2, 0x7ffe, 0x7ffd, 1 + rng.int(70), 0x7ffe - rng.int(70)]); sig = significand(rng); break;
    case 8: exp = BIAS + rng.int(3) - 1; sig = 1n << 63n; break; // 0.5, 1, 2
    case 9: exp = BIAS + rng.int(66); sig = significand(rng) & ~((1n << BigInt(63 - rng.int(63))) - 1n); break; // integers-ish
    case 10: exp = 1 + rng.int(0x7ffe); sig = significand(rng); break;
    default: exp = BIAS - 40 + rng.int(80); sig = significand(rng);
  }
  const b = bytesOf(sig, 10);
  const se = (sign << 15) | exp;
  b[8] = se & 0xff; b[9] = se >>> 8;
  return b;
}

/** Bits of an IEEE single (prec 24) or double (prec 53) value. */
export function randomIeee(rng: Rng, prec: 24 | 53): Uint8Array {
  const expBits = prec === 24 ? 8 : 11, fracBits = prec - 1;
  const expAll = (1 << expBits) - 1;
  const sign = BigInt(rng.int(2));
  let exp: number, frac: bigint;
  const rand = (u64(rng) >> BigInt(64 - fracBits));
  switch (rng.int(10)) {
    case 0: exp = 0; frac = 0n; break;
    case 1: exp = 0; frac = rand === 0n ? 1n : rand; break;
    case 2: exp = expAll; frac = 0n; break;
    case 3: exp = expAll; frac = (1n << BigInt(fracBits - 1)) | (rng.int(2) ? rand >> 1n : 0n); break;
    case 4: exp = expAll; frac = (rand >> 1n) | 1n; break;
    case 5: exp = rng.pick([1, expAll - 1]); frac = rand; break;
    default: exp = (expAll >> 1) - 20 + rng.int(40); frac = rand;
  }
  return bytesOf((sign << BigInt(expBits + fracBits)) | (BigInt(exp) << BigInt(fracBits)) | frac, prec === 24 ? 4 : 8);
}

export function randomInt(rng: Rng, bytes: number): Uint8Array {
  const bits = BigInt(8 * bytes);
  const edges = [0n, 1n, -1n, (1n << (bits - 1n)) - 1n, -(1n << (bits - 1n)), 10n ** 17n, -(10n ** 18n) + 1n];
  const v = rng.int(3) === 0 ? rng.pick(edges) : BigInt.asIntN(Number(bits), u64(rng) >> BigInt(rng.int(Number(bits))));
  return bytesOf(v, bytes);
}

export function randomBcd(rng: Rng): Uint8Array {
  const b = new Uint8Array(10);
  const digits = rng.int(19);
  for (let k = 0; k < 9; k++) {
    const lo = 2 * k < digits ? rng.int(10) : 0, hi = 2 * k + 1 < digits ? rng.int(10) : 0;
    b[k] = (hi << 4) | lo;
  }
  b[9] = rng.int(2) ? 0x80 : 0;
  return b;
}

export interface FpuSetup {
  /** Probability that ST(k) is empty. */
  emptyST: (k: number) => number;
  /** Allow pending (unmasked) exceptions in the starting FSW. */
  pending: boolean;
}

/** A 108-byte FRSTOR image with a random control word, stack and flags. */
export function randomImage(rng: Rng, setup: FpuSetup): Uint8Array {
  const img = new Uint8Array(IMG_BYTES);
  const dv = new DataView(img.buffer);
  const masks = rng.int(5) === 0 ? rng.int(64) : 0x3f;
  const pc = rng.pick([0, 2, 3, 3, 3, 1]);
  const rc = rng.int(4);
  const fcw = 0x40 | masks | (pc << 8) | (rc << 10);
  const top = rng.int(8);
  let flags = rng.int(4) === 0 ? rng.int(64) & masks : 0;
  if (setup.pending && rng.int(8) === 0) flags = rng.int(64);
  const cc = rng.int(16);
  const ccBits = (cc & 1 ? 0x100 : 0) | (cc & 2 ? 0x200 : 0) | (cc & 4 ? 0x400 : 0) | (cc & 8 ? 0x4000 : 0);
  const es = flags & ~masks & 0x3f ? 0x8080 : 0;
  const fsw = flags | es | ccBits | (top << 11);
  let tags = 0;
  for (let k = 0; k < 8; k++) {
    const phys = (top + k) & 7;
    const empty = rng.next() < setup.emptyST(k);
    tags |= (empty ? 3 : rng.int(3)) << (2 * phys);
  }
  dv.setUint32(0, 0xffff0000 | fcw, true);
  dv.setUint32(4, 0xffff0000 | fsw, true);
  dv.setUint32(8, 0xffff0000 | tags, true);
  for (let k = 0; k < 8; k++) img.set(randomExt(rng), 28 + 10 * k);
  return img;
}

export function randomMemory(rng: Rng): Uint8Array {
  const m = new Uint8Array(MEM_BYTES);
  for (let k = 0; k < MEM_BYTES; k++) m[k] = rng.int(256);
  return m;
}

export function randomRflags(rng: Rng): number {
  return 0x202 | (rng.int(0x100) & 0xd5) | (rng.int(2) ? 0x800 : 0);
}

export type { X87Case };
