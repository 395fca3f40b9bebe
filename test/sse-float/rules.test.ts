/**
 * The exception and result rules the reference CPU (AMD EPYC) showed, as readable fixed cases that
 * run everywhere (no gcc or AMD host needed). Where the native oracle is usable, each case is also
 * run on the CPU, so the table itself stays true to hardware.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSE_FLOAT_FORMS, unmaskedExceptions } from '../../src/x86/sse/float/index.js';
import { oracleUnavailable, runOracle } from './oracle.js';

const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
const MASKED = 0x1f80;
/** MXCSR with only the given exceptions unmasked. */
const unmask = (flags: number): number => MASKED & ~(flags << 7);

interface Rule {
  what: string;
  key: string;
  mxcsr: number;
  dst: number[];   // four u32 lanes of the ModRM.reg register
  src: number[];   // four u32 lanes of the ModRM.rm register (or RAX's two halves for a GPR source)
  imm8?: number;
  raised: number;
  out?: number[];  // expected result lanes (u32); absent when the instruction faults
}

const f32 = (x: number): number => { const b = new DataView(new ArrayBuffer(4)); b.setFloat32(0, x); return b.getUint32(0); };
/** The two u32 lanes (low first) of a double. */
const f64 = (x: number): number[] => { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x, true); return [b.getUint32(0, true), b.getUint32(4, true)]; };
const Z = [0, 0, 0];

const RULES: Rule[] = [
  { what: 'inexact sum sets PE', key: 'f3:1:58', mxcsr: MASKED, dst: [f32(1), ...Z], src: [0x30800000, ...Z], raised: PE, out: [f32(1), ...Z] },
  { what: '1/0 is ZE and +inf, 0/0 is IE and the QNaN indefinite', key: ':1:5e', mxcsr: MASKED, dst: [f32(1), 0, f32(2), f32(3)], src: [0, 0, f32(2), f32(1)], raised: IE | ZE, out: [0x7f800000, 0xffc00000, f32(1), f32(3)] },
  { what: 'a subnormal over zero raises ZE but not DE', key: 'f3:1:5e', mxcsr: MASKED, dst: [0x80012a57, ...Z], src: [0, ...Z], raised: ZE, out: [0xff800000, ...Z] },
  { what: 'SQRT of a negative subnormal raises IE but not DE', key: 'f3:1:51', mxcsr: MASKED, dst: Z.concat(0), src: [0x80000001, ...Z], raised: IE, out: [0xffc00000, ...Z] },
  { what: 'an exact subnormal product is no underflow when UE is masked', key: 'f3:1:59', mxcsr: MASKED, dst: [0x1c800000, ...Z], src: [0x1c800000, ...Z], raised: 0, out: [0x200, ...Z] },
  { what: 'an exact subnormal product faults when UE is unmasked, without PE', key: 'f3:1:59', mxcsr: unmask(UE), dst: [0x1c800000, ...Z], src: [0x1c800000, ...Z], raised: UE },
  { what: 'FTZ flushes a tiny result, setting UE and PE even when exact', key: 'f3:1:59', mxcsr: MASKED | 0x8000, dst: [0x1c800000, ...Z], src: [0x1c800000, ...Z], raised: UE | PE, out: [0, ...Z] },
  { what: 'an unmasked overflow with an exact unbounded result reports OE alone', key: 'f3:1:59', mxcsr: unmask(OE), dst: [0x7f000000, ...Z], src: [f32(4), ...Z], raised: OE },
  { what: 'a masked overflow gives infinity with OE and PE', key: 'f3:1:59', mxcsr: MASKED, dst: [0x7f000000, ...Z], src: [f32(4), ...Z], raised: OE | PE, out: [0x7f800000, ...Z] },
  { what: 'overflow toward zero gives the largest finite value', key: 'f3:1:59', mxcsr: MASKED | 0x6000, dst: [0x7f000000, ...Z], src: [f32(4), ...Z], raised: OE | PE, out: [0x7f7fffff, ...Z] },
  { what: 'MIN with a QNaN returns the second operand and raises IE', key: 'f3:1:5d', mxcsr: MASKED, dst: [0x7fc00001, ...Z], src: [f32(5), ...Z], raised: IE, out: [f32(5), ...Z] },
  { what: 'MAX returns a SNaN second operand unquieted', key: 'f3:1:5f', mxcsr: MASKED, dst: [f32(1), ...Z], src: [0x7f800001, ...Z], raised: IE, out: [0x7f800001, ...Z] },
  { what: 'MAX under DAZ returns a subnormal second operand as zero', key: 'f3:1:5f', mxcsr: MASKED | 0x40, dst: [0x7fc00000, ...Z], src: [0x00012345, ...Z], raised: IE, out: [0, ...Z] },
  { what: 'the first source NaN wins, quieted', key: 'f3:1:58', mxcsr: MASKED, dst: [0xff800123, ...Z], src: [0x7fc00456, ...Z], raised: IE, out: [0xffc00123, ...Z] },
  { what: 'CVTSS2SI of 2^31 is the integer indefinite with IE', key: 'f3:1:2d', mxcsr: MASKED, dst: Z.concat(0), src: [f32(2 ** 31), ...Z], raised: IE, out: [0x80000000, 0] },
  { what: 'CVTTSS2SI of -2^31 is exact and in range', key: 'f3:1:2c', mxcsr: MASKED, dst: Z.concat(0), src: [0xcf000000, ...Z], raised: 0, out: [0x80000000, 0] },
  { what: 'CVTTSD2SI truncates -2^31 - 0.9 into range, PE', key: 'f2:1:2c', mxcsr: MASKED, dst: Z.concat(0), src: [...f64(-(2 ** 31) - 0.9), 0, 0], raised: PE, out: [0x80000000, 0] },
  { what: 'CVTSD2SI rounds -2^31 - 0.9 out of range: IE', key: 'f2:1:2d', mxcsr: MASKED, dst: Z.concat(0), src: [...f64(-(2 ** 31) - 0.9), 0, 0], raised: IE, out: [0x80000000, 0] },
  { what: 'CVTSI2SS rounds 2^24 + 1 to even, PE', key: 'f3:1:2a', mxcsr: MASKED, dst: [0, 0, 0, 0], src: [2 ** 24 + 1, 0], raised: PE, out: [f32(2 ** 24), 0, 0, 0] },
  { what: 'CVTSI2SS rounds 2^24 + 1 up under RC = up', key: 'f3:1:2a', mxcsr: MASKED | 0x4000, dst: [0, 0, 0, 0], src: [2 ** 24 + 1, 0], raised: PE, out: [f32(2 ** 24 + 2), 0, 0, 0] },
  { what: 'ROUNDSS to nearest even, PE', key: '66:3:0a', mxcsr: MASKED, dst: Z.concat(0), src: [f32(2.5), ...Z], imm8: 0, raised: PE, out: [f32(2), ...Z] },
  { what: 'ROUNDSS imm8[3] suppresses PE', key: '66:3:0a', mxcsr: MASKED, dst: Z.concat(0), src: [f32(2.5), ...Z], imm8: 8 | 2, raised: 0, out: [f32(3), ...Z] },
  { what: 'DPPS raises DE for a subnormal intermediate', key: '66:3:40', mxcsr: MASKED, dst: [1, ...Z], src: [f32(1), ...Z], imm8: 0x11, raised: DE, out: [1, ...Z] },
  { what: 'RCPSS(1.0) is the table entry 0x3f7ff000, no flags', key: 'f3:1:53', mxcsr: MASKED, dst: Z.concat(0), src: [f32(1), ...Z], raised: 0, out: [0x3f7ff000, ...Z] },
];

const image = (lanes: number[]): Uint8Array => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  lanes.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
  return b;
};
const lanes = (b: Uint8Array, n: number): number[] => Array.from({ length: n }, (_, i) => new DataView(b.buffer, b.byteOffset).getUint32(4 * i, true));

test('the reference CPU\'s SSE float rules, as fixed cases', () => {
  for (const r of RULES) {
    const form = SSE_FLOAT_FORMS.get(r.key);
    assert.ok(form, r.key);
    const out = new Uint8Array(16);
    const raised = form.run({ mxcsr: r.mxcsr }, image(r.dst), image(r.src), r.imm8 ?? 0, out);
    assert.equal(raised, r.raised, `${r.what}: raised`);
    const fault = (raised & unmaskedExceptions(r.mxcsr)) !== 0;
    assert.equal(fault, r.out === undefined, `${r.what}: #XM`);
    if (r.out) assert.deepEqual(lanes(out, r.out.length), r.out.map((x) => x >>> 0), `${r.what}: result`);
  }
});

test('the fixed cases hold on this CPU', (t) => {
  const why = oracleUnavailable();
  if (why) { t.skip(why); return; }
  const results = runOracle(RULES.map((r) => {
    const form = SSE_FLOAT_FORMS.get(r.key)!;
    const [prefix, map, opcode] = r.key.split(':');
    const code = [...(prefix ? [parseInt(prefix, 16)] : []), 0x0f, ...(map === '3' ? [0x3a] : []), parseInt(opcode, 16), form.src === 'gpr' ? 0xc0 : 0xc1, ...(form.imm8 ? [r.imm8 ?? 0] : [])];
    return { code: Uint8Array.from(code), mxcsr: r.mxcsr, xmm0: image(r.dst), xmm1: image(r.src), mm0: 0n, mm1: 0n, rax: BigInt(r.src[0] >>> 0) | (BigInt(r.src[1] >>> 0) << 32n), flags: 2 };
  }));
  RULES.forEach((r, i) => {
    const res = results[i];
    const form = SSE_FLOAT_FORMS.get(r.key)!;
    assert.notEqual(res.kind, 'other', r.what);
    if (res.kind === 'other') return;
    assert.equal(res.mxcsr, r.mxcsr | r.raised, `${r.what}: MXCSR on the CPU`);
    assert.equal(res.kind === 'xm', r.out === undefined, `${r.what}: #XM on the CPU`);
    if (res.kind === 'ok' && r.out) {
      const got = form.dst === 'gpr' ? [Number(res.rax & 0xffffffffn), Number(res.rax >> 32n)] : lanes(res.xmm0, r.out.length);
      assert.deepEqual(got, r.out.map((x) => x >>> 0), `${r.what}: result on the CPU`);
    }
  });
});
