/** Conversion forms (0F 2A 2C 2D 5A 5B E6): float <-> float, float <-> int32/int64, XMM, MMX and GPR operands. */
import { convertFloat, floatToInt, intToFloat } from './convert.js';
import { F32, F64, type FloatFormat } from './format.js';
import type { OperandKind, SseFloatForm } from './form.js';
import { getInt, getLane, getU32, setInt, setLane, setU32 } from './image.js';
import { fastConvertFloat, fastFloatToInt32, fastFloatToInt64, fastIntToFloat } from './fast-lanes.js';
import { handler, xmmForm, type FormEntry, type Lanes } from './form-builders.js';
import { copyBytes } from '../vec.js';

function form(mnemonic: string, dst: OperandKind, src: OperandKind, memSize: 4 | 8 | 16, readsDst: boolean, lanes: Lanes, gprBytes?: 4 | 8): SseFloatForm {
  return { mnemonic, dst, src, gprBytes, memSize, aligned: memSize === 16, registerOnly: false, readsDst, imm8: false, writes: 'dst', run: handler(lanes) };
}

/** n float lanes of `from` to the low lanes of `to`; the rest of the 16 bytes zeroed. */
function floatLanes(from: FloatFormat, to: FloatFormat, n: number): Lanes {
  return (ctx, _dst, src, _imm, o) => {
    o.fill(0, 0, 16);
    for (let i = 0; i < n; i++) {
      if (!fastConvertFloat(ctx, from, to, src, i, o, i)) setLane(o, to, i, convertFloat(ctx, from, to, getLane(src, from, i)));
    }
  };
}

/** Scalar float conversion into lane 0, the rest of dst kept. */
function floatScalar(from: FloatFormat, to: FloatFormat): Lanes {
  return (ctx, dst, src, _imm, o) => {
    copyBytes(o, dst, 16);
    if (!fastConvertFloat(ctx, from, to, src, 0, o, 0)) setLane(o, to, 0, convertFloat(ctx, from, to, getLane(src, from, 0)));
  };
}

/** n int32 lanes to float lanes; keep: the rest of dst is preserved (CVTPI2PS), else zeroed. */
function intLanes(to: FloatFormat, n: number, keep: boolean): Lanes {
  return (ctx, dst, src, _imm, o) => {
    if (keep) copyBytes(o, dst, 16); else o.fill(0, 0, 16);
    for (let i = 0; i < n; i++) fastIntToFloat(ctx, to, getU32(src, i) | 0, o, i);
  };
}

/** n float lanes to int32 lanes (the rest of the 16 bytes zeroed). */
function toIntLanes(from: FloatFormat, n: number, truncate: boolean): Lanes {
  return (ctx, _dst, src, _imm, o) => {
    o.fill(0, 0, 16);
    for (let i = 0; i < n; i++) {
      const v = fastFloatToInt32(ctx, from, src, i, truncate);
      if (v !== undefined) setU32(o, i, v);
      else setInt(o, 4, i, floatToInt(ctx, from, getLane(src, from, i), 32, truncate));
    }
  };
}

/** CVTSI2SS/SD: a general register (or memory) integer of `bytes` into lane 0, the rest of dst kept. */
function fromGpr(to: FloatFormat, bytes: 4 | 8): Lanes {
  return (ctx, dst, src, _imm, o) => {
    copyBytes(o, dst, 16);
    // A 32-bit integer (or a 64-bit one within 2^53) is exact in a double: the fast path takes it.
    if (bytes === 4) { fastIntToFloat(ctx, to, getU32(src, 0) | 0, o, 0); return; }
    const hi = getU32(src, 1) | 0;
    if (hi >= -(2 ** 20) && hi < 2 ** 20) fastIntToFloat(ctx, to, hi * 2 ** 32 + getU32(src, 0), o, 0);
    else setLane(o, to, 0, intToFloat(ctx, to, getInt(src, bytes, 0)));
  };
}

/** CVT(T)SS2SI/SD2SI: lane 0 to a general register of `bytes`. */
function toGpr(from: FloatFormat, bytes: 4 | 8, truncate: boolean): Lanes {
  return (ctx, _dst, src, _imm, o) => {
    o.fill(0, 0, 8);
    if (bytes === 8) {
      if (!fastFloatToInt64(ctx, from, src, 0, truncate, o)) setInt(o, 8, 0, floatToInt(ctx, from, getLane(src, from, 0), 64, truncate));
      return;
    }
    const v = fastFloatToInt32(ctx, from, src, 0, truncate);
    if (v !== undefined) setU32(o, 0, v);
    else setInt(o, 4, 0, floatToInt(ctx, from, getLane(src, from, 0), 32, truncate));
  };
}

function gprForms(): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [bytes, w] of [[4, ''], [8, '/w1']] as const) {
    out.push([`f3:1:2a${w}`, form('cvtsi2ss', 'xmm', 'gpr', bytes, true, fromGpr(F32, bytes), bytes)]);
    out.push([`f2:1:2a${w}`, form('cvtsi2sd', 'xmm', 'gpr', bytes, true, fromGpr(F64, bytes), bytes)]);
    for (const [opcode, t, truncate] of [['2c', 't', true], ['2d', '', false]] as const) {
      out.push([`f3:1:${opcode}${w}`, form(`cvt${t}ss2si`, 'gpr', 'xmm', 4, false, toGpr(F32, bytes, truncate), bytes)]);
      out.push([`f2:1:${opcode}${w}`, form(`cvt${t}sd2si`, 'gpr', 'xmm', 8, false, toGpr(F64, bytes, truncate), bytes)]);
    }
  }
  return out;
}

export const CONVERT_FORMS: readonly FormEntry[] = [
  [':1:5a', xmmForm('cvtps2pd', 8, false, floatLanes(F32, F64, 2))],
  ['66:1:5a', xmmForm('cvtpd2ps', 16, false, floatLanes(F64, F32, 2))],
  ['f3:1:5a', xmmForm('cvtss2sd', 4, true, floatScalar(F32, F64))],
  ['f2:1:5a', xmmForm('cvtsd2ss', 8, true, floatScalar(F64, F32))],
  [':1:5b', xmmForm('cvtdq2ps', 16, false, intLanes(F32, 4, false))],
  ['66:1:5b', xmmForm('cvtps2dq', 16, false, toIntLanes(F32, 4, false))],
  ['f3:1:5b', xmmForm('cvttps2dq', 16, false, toIntLanes(F32, 4, true))],
  ['66:1:e6', xmmForm('cvttpd2dq', 16, false, toIntLanes(F64, 2, true))],
  ['f2:1:e6', xmmForm('cvtpd2dq', 16, false, toIntLanes(F64, 2, false))],
  ['f3:1:e6', xmmForm('cvtdq2pd', 8, false, intLanes(F64, 2, false))],
  // MMX forms: an MMX image is 8 bytes (out's first 8 bytes for an MMX destination).
  [':1:2a', { ...form('cvtpi2ps', 'xmm', 'mmx', 8, true, intLanes(F32, 2, true)), mmxTransition: 'always' }],
  ['66:1:2a', { ...form('cvtpi2pd', 'xmm', 'mmx', 8, false, intLanes(F64, 2, false)), mmxTransition: 'register' }],
  [':1:2c', { ...form('cvttps2pi', 'mmx', 'xmm', 8, false, toIntLanes(F32, 2, true)), mmxTransition: 'always' }],
  ['66:1:2c', { ...form('cvttpd2pi', 'mmx', 'xmm', 16, false, toIntLanes(F64, 2, true)), mmxTransition: 'always' }],
  [':1:2d', { ...form('cvtps2pi', 'mmx', 'xmm', 8, false, toIntLanes(F32, 2, false)), mmxTransition: 'always' }],
  ['66:1:2d', { ...form('cvtpd2pi', 'mmx', 'xmm', 16, false, toIntLanes(F64, 2, false)), mmxTransition: 'always' }],
  ...gprForms(),
];
