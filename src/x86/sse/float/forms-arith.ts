/** Arithmetic forms: ADD SUB MUL DIV MIN MAX SQRT (PS SS PD SD), SSE3 horizontal/alternating, SSE4.1 ROUND and DP. */
import { ADD, DIV, MUL, SQRT, SUB, add, mul, type BinaryOp } from './arith.js';
import { minMax } from './compare.js';
import { FpContext } from './context.js';
import { F32, F64, type FloatFormat } from './format.js';
import type { FloatEnv, SseFloatForm } from './form.js';
import { getLane, getU32, setLane, setU32 } from './image.js';
import { reciprocal, reciprocalSqrt } from './approx.js';
import { roundIntegral } from './round-integral.js';
import { unmaskedExceptions } from './mxcsr.js';
import { FastOp, fastBinary } from './fast.js';
import { copyLane, fastCompare } from './fast-lanes.js';

export type FormEntry = readonly [key: string, form: SseFloatForm];

type Run = SseFloatForm['run'];
type Lanes = (ctx: FpContext, dst: Uint8Array, src: Uint8Array, imm8: number, out: Uint8Array) => void;

/** A handler from a lane loop: one FpContext per instruction, its raised() flags returned. */
export function handler(lanes: Lanes): Run {
  return (env: FloatEnv, dst, src, imm8, out) => {
    const ctx = new FpContext(env.mxcsr);
    lanes(ctx, dst, src, imm8, out);
    return ctx.raised();
  };
}

/** An XMM <- XMM/m form; the defaults of the common case. */
export function xmmForm(mnemonic: string, memSize: 4 | 8 | 16, readsDst: boolean, lanes: Lanes, imm8 = false): SseFloatForm {
  return { mnemonic, dst: 'xmm', src: 'xmm', memSize, aligned: memSize === 16, registerOnly: false, readsDst, imm8, writes: 'dst', run: handler(lanes) };
}

const PACKED: readonly [string, string, FloatFormat][] = [['', 'ps', F32], ['66', 'pd', F64]];
const SCALAR: readonly [string, string, FloatFormat][] = [['f3', 'ss', F32], ['f2', 'sd', F64]];

function lanesOf(f: FloatFormat): number {
  return 16 / f.bytes;
}

/** op on every lane (packed) and on lane 0 with the rest of dst kept (scalar), for prefixes none/66/f3/f2. */
function fourForms(opcode: string, name: string, op: BinaryOp, fast?: FastOp, readsDstPacked = true): FormEntry[] {
  const out: FormEntry[] = [];
  // Lane i of o from lanes i of a and b: the double fast path when it applies, else exact.
  const lane = (ctx: FpContext, f: FloatFormat, a: Uint8Array, b: Uint8Array, o: Uint8Array, i: number): void => {
    if (fast !== undefined && fastBinary(ctx, f, fast, a, i, b, i, o, i)) return;
    setLane(o, f, i, op(ctx, f, getLane(a, f, i), getLane(b, f, i)));
  };
  for (const [prefix, suffix, f] of PACKED) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, 16, readsDstPacked, (ctx, dst, src, _imm, o) => {
      for (let i = 0; i < lanesOf(f); i++) lane(ctx, f, dst, src, o, i);
    })]);
  }
  for (const [prefix, suffix, f] of SCALAR) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, f.bytes, true, (ctx, dst, src, _imm, o) => {
      o.set(dst.subarray(0, 16));
      lane(ctx, f, dst, src, o, 0);
    })]);
  }
  return out;
}

/** a lane ia +/- b lane ib into o lane io, fast path first. */
function addLane(ctx: FpContext, f: FloatFormat, a: Uint8Array, ia: number, b: Uint8Array, ib: number, o: Uint8Array, io: number, subtract: boolean): void {
  if (fastBinary(ctx, f, subtract ? FastOp.Sub : FastOp.Add, a, ia, b, ib, o, io)) return;
  setLane(o, f, io, add(ctx, f, getLane(a, f, ia), getLane(b, f, ib), subtract));
}

const MIN: BinaryOp = (ctx, f, a, b) => minMax(ctx, f, a, b, false);
const MAX: BinaryOp = (ctx, f, a, b) => minMax(ctx, f, a, b, true);

/** MIN/MAX lanes: plain operands are picked by a double comparison (ties and zeros: the second). */
function minMaxForms(opcode: string, name: string, max: boolean, exact: BinaryOp): FormEntry[] {
  const lane = (ctx: FpContext, f: FloatFormat, a: Uint8Array, b: Uint8Array, o: Uint8Array, i: number): void => {
    const c = fastCompare(f, a, i, b, i);
    if (c === undefined) setLane(o, f, i, exact(ctx, f, getLane(a, f, i), getLane(b, f, i)));
    else copyLane(o, (max ? c > 0 : c < 0) ? a : b, f, i);
  };
  const out: FormEntry[] = [];
  for (const [prefix, suffix, f] of PACKED) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, 16, true, (ctx, dst, src, _imm, o) => {
      for (let i = 0; i < lanesOf(f); i++) lane(ctx, f, dst, src, o, i);
    })]);
  }
  for (const [prefix, suffix, f] of SCALAR) {
    out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, f.bytes, true, (ctx, dst, src, _imm, o) => {
      o.set(dst.subarray(0, 16));
      lane(ctx, f, dst, src, o, 0);
    })]);
  }
  return out;
}

/** HADD/HSUB (pairs within each operand) and ADDSUB (odd lanes add, even lanes subtract). */
function sse3Forms(): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [prefix, suffix, f] of [['f2', 'ps', F32], ['66', 'pd', F64]] as const) {
    const n = lanesOf(f), half = n / 2;
    for (const [opcode, name, subtract] of [['7c', 'hadd', false], ['7d', 'hsub', true]] as const) {
      out.push([`${prefix}:1:${opcode}`, xmmForm(name + suffix, 16, true, (ctx, dst, src, _imm, o) => {
        for (let i = 0; i < n; i++) {
          const from = i < half ? dst : src, j = 2 * (i % half);
          addLane(ctx, f, from, j, from, j + 1, o, i, subtract);
        }
      })]);
    }
    out.push([`${prefix}:1:d0`, xmmForm('addsub' + suffix, 16, true, (ctx, dst, src, _imm, o) => {
      for (let i = 0; i < n; i++) addLane(ctx, f, dst, i, src, i, o, i, (i & 1) === 0);
    })]);
  }
  return out;
}

/** SSE4.1 ROUNDPS/PD/SS/SD (66 0F3A 08..0B). */
function roundForms(): FormEntry[] {
  const packed = (name: string, f: FloatFormat): SseFloatForm => xmmForm(name, 16, false, (ctx, _dst, src, imm, o) => {
    for (let i = 0; i < lanesOf(f); i++) setLane(o, f, i, roundIntegral(ctx, f, getLane(src, f, i), imm));
  }, true);
  const scalar = (name: string, f: FloatFormat): SseFloatForm => xmmForm(name, f.bytes, true, (ctx, dst, src, imm, o) => {
    o.set(dst.subarray(0, 16));
    setLane(o, f, 0, roundIntegral(ctx, f, getLane(src, f, 0), imm));
  }, true);
  return [
    ['66:3:08', packed('roundps', F32)], ['66:3:09', packed('roundpd', F64)],
    ['66:3:0a', scalar('roundss', F32)], ['66:3:0b', scalar('roundsd', F64)],
  ];
}

/**
 * SSE4.1 DPPS/DPPD: products of the lanes imm8[7:4] selects (others +0.0), summed pairwise
 * ((p0+p1)+(p2+p3) for PS), each step rounded by MXCSR (FTZ applied) and read by the next as an
 * operand (DAZ applied, DE raised for a subnormal intermediate); the sum goes to the lanes
 * imm8[3:0] selects, +0.0 to the others. The steps behave as separate instructions for exceptions:
 * one whose flags include an unmasked exception ends the instruction, later steps report nothing.
 */
function dotForms(): FormEntry[] {
  const dp = (mnemonic: string, f: FloatFormat): SseFloatForm => ({
    ...xmmForm(mnemonic, 16, true, () => undefined, true),
    run: (env: FloatEnv, dst, src, imm, o) => {
      const n = lanesOf(f);
      let raised = 0;
      // One step: run its lanes in a fresh context; true when an unmasked exception stops here.
      const step = (lanes: (ctx: FpContext) => void): boolean => {
        const ctx = new FpContext(env.mxcsr);
        lanes(ctx);
        const r = ctx.raised();
        raised |= r;
        return (r & unmaskedExceptions(env.mxcsr)) !== 0;
      };
      let v: bigint[] = [];
      if (step((ctx) => {
        for (let i = 0; i < n; i++) v.push(imm & (0x10 << i) ? mul(ctx, f, getLane(dst, f, i), getLane(src, f, i)) : 0n);
      })) return raised;
      while (v.length > 1) {
        const next: bigint[] = [];
        if (step((ctx) => {
          for (let i = 0; i < v.length; i += 2) next.push(add(ctx, f, v[i], v[i + 1], false));
        })) return raised;
        v = next;
      }
      for (let i = 0; i < n; i++) setLane(o, f, i, imm & (1 << i) ? v[0] : 0n);
      return raised;
    },
  });
  return [['66:3:40', dp('dpps', F32)], ['66:3:41', dp('dppd', F64)]];
}

/** RCP and RSQRT (PS and SS): table approximations, no exceptions. */
function approxForms(): FormEntry[] {
  const out: FormEntry[] = [];
  for (const [opcode, name, fn] of [['53', 'rcp', reciprocal], ['52', 'rsqrt', reciprocalSqrt]] as const) {
    out.push([`:1:${opcode}`, xmmForm(name + 'ps', 16, false, (_ctx, _dst, src, _imm, o) => {
      for (let i = 0; i < 4; i++) setU32(o, i, fn(getU32(src, i)));
    })]);
    out.push([`f3:1:${opcode}`, xmmForm(name + 'ss', 4, true, (_ctx, dst, src, _imm, o) => {
      o.set(dst.subarray(0, 16));
      setU32(o, 0, fn(getU32(src, 0)));
    })]);
  }
  return out;
}

export const ARITH_FORMS: readonly FormEntry[] = [
  ...approxForms(),
  ...fourForms('58', 'add', ADD, FastOp.Add),
  ...fourForms('59', 'mul', MUL, FastOp.Mul),
  ...fourForms('5c', 'sub', SUB, FastOp.Sub),
  ...minMaxForms('5d', 'min', false, MIN),
  ...fourForms('5e', 'div', DIV, FastOp.Div),
  ...minMaxForms('5f', 'max', true, MAX),
  ...fourForms('51', 'sqrt', SQRT, FastOp.Sqrt, false),
  ...sse3Forms(),
  ...roundForms(),
  ...dotForms(),
];
