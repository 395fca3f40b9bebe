/**
 * The pure x87 arithmetic (src/x86/x87) on values whose results are known without a host CPU:
 * so the model is checked on any machine, not only where the native differential test runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, div, mul, sqrt, sub } from '../../src/x86/x87/arith.js';
import { compare, EQ, GT, LT, UNORDERED } from '../../src/x86/x87/compare.js';
import { CONSTANTS } from '../../src/x86/x87/constants.js';
import { fromBcd, fromIeee, fromInt, roundToIntegral, toBcd, toIeee, toInt, DOUBLE, SINGLE } from '../../src/x86/x87/convert.js';
import { type Ext, INDEFINITE, INT_BIT } from '../../src/x86/x87/ext80.js';
import { remainder } from '../../src/x86/x87/misc.js';
import { DE, IE, makeEnv, OE, PE, UE, ZE, type FpEnv } from '../../src/x86/x87/round.js';
import { atan2, exp2Minus1, Trig, trig, ylog2x } from '../../src/x86/x87/transcendental.js';
import { Rng, testSeed } from '../exec/rng.js';

/** FCW with all exceptions masked, precision control pc (0, 2, 3) and rounding control rc. */
const env = (pc = 3, rc = 0, masks = 0x3f): FpEnv => makeEnv(0x40 | masks | (pc << 8) | (rc << 10));
const num = (v: number): Ext => fromIeee(env(), BigInt.asUintN(64, new BigInt64Array(new Float64Array([v]).buffer)[0]!), DOUBLE);
const toNum = (x: Ext): number => new Float64Array(new BigInt64Array([BigInt.asIntN(64, toIeee(env(), x, DOUBLE))]).buffer)[0]!;

test('1/3 under each precision and rounding control: the significand and C1', () => {
  const third = (pc: number, rc: number): [bigint, number, number] => {
    const e = env(pc, rc);
    const r = div(e, num(1), num(3));
    return [r.sig, e.flags & PE, e.c1];
  };
  // 1/3 = 0.0101...: 24 bits 0xaaaaaa, 53 bits 0x15555555555555 (as significand top bits).
  assert.deepEqual(third(0, 0), [0xaaaaab0000000000n, PE, 1]);
  assert.deepEqual(third(0, 1), [0xaaaaaa0000000000n, PE, 0]);
  assert.deepEqual(third(2, 0), [0xaaaaaaaaaaaaa800n, PE, 0]);
  assert.deepEqual(third(2, 2), [0xaaaaaaaaaaaab000n, PE, 1]);
  assert.deepEqual(third(3, 0), [0xaaaaaaaaaaaaaaabn, PE, 1]);
  assert.deepEqual(third(3, 3), [0xaaaaaaaaaaaaaaaan, PE, 0]);
});

test('exact operations raise nothing; x - x is +0, or -0 rounding down', () => {
  const e = env();
  assert.equal(toNum(add(e, num(1.5), num(2.25))), 3.75);
  assert.equal(toNum(mul(e, num(-3), num(7))), -21);
  assert.equal(toNum(sqrt(e, num(144))), 12);
  assert.equal(e.flags, 0);
  assert.equal(sub(env(3, 0), num(5), num(5)).sign, 0);
  assert.equal(sub(env(3, 1), num(5), num(5)).sign, 1);
});

test('special operands: invalid operations give the indefinite, x/0 is ZE, denormals raise DE', () => {
  let e = env();
  assert.deepEqual(sub(e, num(Infinity), num(Infinity)), INDEFINITE);
  assert.equal(e.flags, IE);
  e = env();
  assert.equal(toNum(div(e, num(-1), num(0))), -Infinity);
  assert.equal(e.flags, ZE);
  e = env();
  assert.deepEqual(sqrt(e, num(-1)), INDEFINITE);
  assert.equal(e.flags, IE);
  e = env();
  add(e, { sign: 0, exp: 0, sig: 1n }, num(1));
  assert.equal(e.flags, DE | PE, 'a denormal operand, and 1 + 2^-16445 is inexact');
  e = env();
  fromIeee(e, 1n, DOUBLE);
  assert.equal(e.flags, DE, 'loading a double denormal');
});

test('overflow and underflow: masked responses and the unmasked exponent-adjusted results', () => {
  const big: Ext = { sign: 0, exp: 0x7ffe, sig: INT_BIT };
  let e = env();
  assert.equal(toNum(mul(e, big, num(2))), Infinity);
  assert.equal(e.flags, OE | PE);
  e = env(3, 3); // toward zero: the largest finite value
  assert.deepEqual(mul(e, big, num(2)), { sign: 0, exp: 0x7ffe, sig: (1n << 64n) - 1n });
  e = env(3, 0, 0x3f & ~OE);
  assert.deepEqual(mul(e, big, num(2)), { sign: 0, exp: 0x7fff - 24576, sig: INT_BIT }, 'biased down by 24576');
  assert.equal(e.flags, OE);
  const tiny: Ext = { sign: 0, exp: 1, sig: INT_BIT };
  e = env();
  assert.deepEqual(div(e, tiny, num(4)), { sign: 0, exp: 0, sig: INT_BIT >> 2n }, 'exact denormal: no flags');
  assert.equal(e.flags, 0);
  e = env(3, 0, 0x3f & ~UE);
  assert.deepEqual(div(e, tiny, num(4)), { sign: 0, exp: 1 - 2 + 24576, sig: INT_BIT }, 'biased up by 24576');
  assert.equal(e.flags, UE);
});

test('doubles and singles round-trip exactly through the register format', () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  for (let i = 0; i < 2000; i++) {
    const bits = rng.u64();
    const exp = Number((bits >> 52n) & 0x7ffn);
    if (exp === 0x7ff && (bits & ((1n << 52n) - 1n)) !== 0n && !(bits & (1n << 51n))) continue; // SNaN: quieted on store
    const e = env();
    assert.equal(toIeee(e, fromIeee(e, bits, DOUBLE), DOUBLE), bits, `seed ${seed}: double 0x${bits.toString(16)}`);
    const b32 = bits & 0xffffffffn;
    const e32 = Number((b32 >> 23n) & 0xffn);
    if (e32 === 0xff && (b32 & 0x7fffffn) !== 0n && !(b32 & 0x400000n)) continue;
    assert.equal(toIeee(e, fromIeee(e, b32, SINGLE), SINGLE), b32, `seed ${seed}: single 0x${b32.toString(16)}`);
  }
});

test('integers and BCD: conversions, rounding control, the indefinites', () => {
  for (const v of [0n, 1n, -1n, 32767n, -32768n, (1n << 63n) - 1n, -(1n << 63n)]) assert.equal(toInt(env(), fromInt(v), 64, false), v);
  assert.equal(toInt(env(3, 0), num(2.5), 16, false), 2n, 'to nearest even');
  assert.equal(toInt(env(3, 1), num(-2.5), 16, false), -3n, 'down');
  assert.equal(toInt(env(3, 0), num(-2.5), 16, true), -2n, 'FISTTP truncates');
  const e = env();
  assert.equal(toInt(e, num(32768), 16, false), -32768n, 'out of range: the integer indefinite');
  assert.equal(e.flags, IE);
  const bcd = toBcd(env(), fromInt(-123456789012345678n));
  assert.deepEqual(Array.from(bcd), [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80]);
  assert.equal(toInt(env(), fromBcd(bcd), 64, false), -123456789012345678n);
  const big = env();
  assert.deepEqual(Array.from(toBcd(big, fromInt(10n ** 18n))), [0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff], '10^18: the BCD indefinite');
  assert.equal(big.flags, IE);
  assert.equal(toNum(roundToIntegral(env(3, 2), num(-0.5))), -0);
  assert.equal(toNum(roundToIntegral(env(3, 2), num(0.25))), 1);
});

test('constants are rounded by RC: pi to nearest ends ...c235, toward zero ...c234', () => {
  assert.equal(CONSTANTS[3]!(0).sig, 0xc90fdaa22168c235n);
  assert.equal(CONSTANTS[3]!(3).sig, 0xc90fdaa22168c234n);
  assert.equal(CONSTANTS[5]!(0).sig, 0xb17217f7d1cf79acn, 'ln 2');
  assert.equal(CONSTANTS[1]!(2).sig, 0xd49a784bcd1b8affn, 'log2(10) up');
});

test('comparisons order zeros, infinities and NaNs as the x87 does', () => {
  const e = env();
  assert.equal(compare(e, num(0), num(-0), true), EQ);
  assert.equal(compare(e, num(-Infinity), num(-1e300), true), LT);
  assert.equal(compare(e, num(2), num(1), true), GT);
  assert.equal(e.flags, 0);
  assert.equal(compare(e, num(NaN), num(1), false), UNORDERED);
  assert.equal(e.flags, 0, 'FUCOM: a QNaN is not invalid');
  assert.equal(compare(e, num(NaN), num(1), true), UNORDERED);
  assert.equal(e.flags, IE, 'FCOM: any NaN is invalid');
});

test('FPREM: remainder and quotient bits; FPREM1 rounds the quotient to nearest', () => {
  const r = remainder(env(), num(17), num(5), false);
  assert.deepEqual([toNum(r.value), r.q, r.incomplete], [2, 3, false]);
  const r1 = remainder(env(), num(17), num(5), true);
  assert.deepEqual([toNum(r1.value), r1.q, r1.incomplete], [2, 3, false]);
  const r2 = remainder(env(), num(18), num(5), true);
  assert.deepEqual([toNum(r2.value), r2.q], [-2, 4]);
  assert.equal(remainder(env(), num(2 ** 100), num(3), false).incomplete, true, 'exponent gap >= 64: partial');
});

test('transcendentals agree with the host libm to double precision', () => {
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) <= Math.abs(b) * 2 ** -50, `${a} vs ${b}`);
  // Small arguments only: the x87 reduces by a 66-bit pi, so sin(1e5) is off libm's in the 15th digit.
  for (const x of [0.1, 0.5, 1, 2, 3, 10, -7.5]) {
    close(toNum(trig(env(), num(x), Trig.Sin)![0]), Math.sin(x));
    close(toNum(trig(env(), num(x), Trig.Cos)![0]), Math.cos(x));
    close(toNum(trig(env(), num(x), Trig.Tan)![0]), Math.tan(x));
    close(toNum(atan2(env(), num(x), num(3))), Math.atan2(x, 3));
    close(toNum(ylog2x(env(), num(3), num(Math.abs(x)))), 3 * Math.log2(Math.abs(x)));
  }
  for (const x of [-1, -0.5, 1e-10, 0.3, 1]) close(toNum(exp2Minus1(env(), num(x))), Math.expm1(x * Math.LN2));
  assert.equal(trig(env(), { sign: 0, exp: 16383 + 63, sig: INT_BIT }, Trig.Sin), undefined, '|x| >= 2^63: C2, unchanged');
});
