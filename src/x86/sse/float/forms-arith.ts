/** Arithmetic forms: ADD SUB MUL DIV MIN MAX SQRT (PS SS PD SD) and RCP/RSQRT (PS SS). */
import { ADD, DIV, MUL, SQRT, SUB, type BinaryOp } from './arith.js';
import { reciprocal, reciprocalSqrt } from './approx.js';
import { minMax } from './compare.js';
import type { FpContext } from './context.js';
import { copyLane, fastCompare } from './fast-lanes.js';
import { FastOp, fastBinary } from './fast.js';
import { F32, F64, type FloatFormat } from './format.js';
import { lanesOf, xmmForm, type FormEntry } from './form-builders.js';
import { getLane, getU32, setLane, setU32 } from './image.js';
import { copyBytes } from '../vec.js';

const PACKED: readonly [string, string, FloatFormat][] = [['', 'ps', F32], ['66', 'pd', F64]];
const SCALAR: readonly [string, string, FloatFormat][] = [['f3', 'ss', F32], ['f2', 'sd', F64]];

/** Computes lane i of o from lanes i of a (dst) and b (src). */
type LaneOp = (ctx: FpContext, f: FloatFormat, a: Uint8Array, b: Uint8Array, o: Uint8Array, i: number) => void;

/** lane on every lane (packed) and on lane 0 with the rest of dst kept (scalar), for prefixes none/66/f3/f2. */
function fourForms(opcode: string, name: string, lane: LaneOp, readsDstPacked = true): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [prefix, suffix, f] of PACKED) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, 16, readsDstPacked, (ctx, dst, src, _imm, o) => {
      for (let i = 0; i < lanesOf(f); i++) lane(ctx, f, dst, src, o, i);
    })]);
  }
  for (const [prefix, suffix, f] of SCALAR) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, f.bytes, true, (ctx, dst, src, _imm, o) => {
      copyBytes(o, dst, 16);
      lane(ctx, f, dst, src, o, 0);
    })]);
  }
  return out;
}

/** An IEEE operation: the double fast path when it applies, else exact. */
function arithmetic(op: BinaryOp, fast: FastOp): LaneOp {
  return (ctx, f, a, b, o, i) => {
    if (!fastBinary(ctx, f, fast, a, i, b, i, o, i)) setLane(o, f, i, op(ctx, f, getLane(a, f, i), getLane(b, f, i)));
  };
}

/** MIN/MAX: plain operands are picked by a double comparison (ties and zeros: the second), others exactly. */
function minOrMax(max: boolean): LaneOp {
  return (ctx, f, a, b, o, i) => {
    const c = fastCompare(f, a, i, b, i);
    if (c === undefined) setLane(o, f, i, minMax(ctx, f, getLane(a, f, i), getLane(b, f, i), max));
    else copyLane(o, (max ? c > 0 : c < 0) ? a : b, f, i);
  };
}

/** RCP and RSQRT (PS and SS): table approximations, no exceptions. */
function approxForms(): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [opcode, name, fn] of [['53', 'rcp', reciprocal], ['52', 'rsqrt', reciprocalSqrt]] as const) {
    out.push([`:1:${opcode}`, xmmForm(name + 'ps', 16, false, (_ctx, _dst, src, _imm, o) => {
      for (let i = 0; i < 4; i++) setU32(o, i, fn(getU32(src, i)));
    })]);
    out.push([`f3:1:${opcode}`, xmmForm(name + 'ss', 4, true, (_ctx, dst, src, _imm, o) => {
      copyBytes(o, dst, 16);
      setU32(o, 0, fn(getU32(src, 0)));
    })]);
  }
  return out;
}

export const ARITH_FORMS: readonly FormEntry[] = [
  ...approxForms(),
  ...fourForms('58', 'add', arithmetic(ADD, FastOp.Add)),
  ...fourForms('59', 'mul', arithmetic(MUL, FastOp.Mul)),
  ...fourForms('5c', 'sub', arithmetic(SUB, FastOp.Sub)),
  ...fourForms('5d', 'min', minOrMax(false)),
  ...fourForms('5e', 'div', arithmetic(DIV, FastOp.Div)),
  ...fourForms('5f', 'max', minOrMax(true)),
  ...fourForms('51', 'sqrt', arithmetic(SQRT, FastOp.Sqrt), false),
];
