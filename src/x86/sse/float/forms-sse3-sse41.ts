/** SSE3 ADDSUB/HADD/HSUB and SSE4.1 ROUND and DP forms. */
import { add, mul } from './arith.js';
import { FpContext } from './context.js';
import { FastOp, fastBinary } from './fast.js';
import { F32, F64, type FloatFormat } from './format.js';
import type { FloatEnv, SseFloatForm } from './form.js';
import { lanesOf, xmmForm, type FormEntry } from './form-builders.js';
import { getLane, setLane } from './image.js';
import { unmaskedExceptions } from './mxcsr.js';
import { roundIntegral } from './round-integral.js';
import { copyBytes } from '../vec.js';

/** a lane ia +/- b lane ib into o lane io, fast path first. */
function addLane(ctx: FpContext, f: FloatFormat, a: Uint8Array, ia: number, b: Uint8Array, ib: number, o: Uint8Array, io: number, subtract: boolean): void {
  if (fastBinary(ctx, f, subtract ? FastOp.Sub : FastOp.Add, a, ia, b, ib, o, io)) return;
  setLane(o, f, io, add(ctx, f, getLane(a, f, ia), getLane(b, f, ib), subtract));
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
    copyBytes(o, dst, 16);
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

export const SSE3_SSE41_FORMS: readonly FormEntry[] = [...sse3Forms(), ...roundForms(), ...dotForms()];
