/**
 * The double-arithmetic wide products (src/x86/exec/wide.ts) and product() against BigInt, on
 * edge values and seeded random ones (the seed is printed on failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulS32, mulS64, mulU32, mulU64, wide } from '../../src/x86/exec/wide.js';
import { product } from '../../src/x86/exec/ops-muldiv.js';
import { Rng, testSeed } from './rng.js';

const M32 = (1n << 32n) - 1n;
const lo32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi32 = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
const words = (): bigint =>
  BigInt(wide.w0 >>> 0) | (BigInt(wide.w1 >>> 0) << 32n) | (BigInt(wide.w2 >>> 0) << 64n) | (BigInt(wide.w3 >>> 0) << 96n);

function check(seed: number, rounds: number, body: (rng: Rng) => void): void {
  const rng = new Rng(seed);
  try {
    for (let i = 0; i < rounds; i++) body(rng);
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`);
  }
}

test('32 x 32 and 64 x 64 products are exact (unsigned and signed)', () => {
  check(testSeed(), 20000, (rng) => {
    const a = rng.value(), b = rng.value();
    const a32 = a & M32, b32 = b & M32;
    mulU32(lo32(a32), lo32(b32));
    assert.equal(words() & ((1n << 64n) - 1n), a32 * b32, `mulU32 ${a32} * ${b32}`);
    mulS32(lo32(a32), lo32(b32));
    assert.equal(words() & ((1n << 64n) - 1n), BigInt.asUintN(64, BigInt.asIntN(32, a32) * BigInt.asIntN(32, b32)), `mulS32 ${a32} * ${b32}`);
    mulU64(lo32(a), hi32(a), lo32(b), hi32(b));
    assert.equal(words(), a * b, `mulU64 ${a} * ${b}`);
    mulS64(lo32(a), hi32(a), lo32(b), hi32(b));
    assert.equal(words(), BigInt.asUintN(128, BigInt.asIntN(64, a) * BigInt.asIntN(64, b)), `mulS64 ${a} * ${b}`);
  });
});

test('product(): low and high parts and the overflow flag at every size', () => {
  check(testSeed(), 20000, (rng) => {
    const size = rng.pick([1, 2, 4, 8]), signed = rng.int(2) === 1, bits = BigInt(size * 8);
    // Mostly 64-bit operands whose high halves are zero (how multi-precision code calls IMUL).
    const narrow = size === 8 && rng.int(2) === 0;
    const a = BigInt.asUintN(Number(bits), narrow ? rng.value() & M32 : rng.value());
    const b = BigInt.asUintN(Number(bits), narrow ? rng.value() & M32 : rng.value());
    const ov = product(size, signed, lo32(a), hi32(a), lo32(b), hi32(b));
    const exact = signed ? BigInt.asIntN(Number(bits), a) * BigInt.asIntN(Number(bits), b) : a * b;
    const low = BigInt.asUintN(Number(bits), exact), high = BigInt.asUintN(Number(bits), exact >> bits);
    // Every size: the low part from bit 0, the high part from bit 64 (w2, w3).
    const got = words();
    assert.equal(got & ((1n << bits) - 1n), low, `low part, size ${size} ${signed ? 'signed' : 'unsigned'} ${a} * ${b}`);
    assert.equal((got >> 64n) & ((1n << bits) - 1n), high, `high part, size ${size} ${a} * ${b}`);
    const expectOv = signed ? BigInt.asIntN(Number(bits), low) !== exact : high !== 0n;
    assert.equal(ov, expectOv, `overflow, size ${size} ${signed ? 'signed' : 'unsigned'} ${a} * ${b}`);
  });
});
