/**
 * D9 F0-FF: the transcendental and miscellaneous instructions on ST(0) (and ST(1)), in opcode
 * order: F2XM1 FYL2X FPTAN FPATAN FXTRACT FPREM1 FDECSTP FINCSTP FPREM FYL2XP1 FSQRT FSINCOS
 * FRNDINT FSCALE FSIN FCOS. The arithmetic is src/x86/x87 (transcendental.ts, misc.ts).
 */
import { sqrt } from '../x87/arith.js';
import { roundToIntegral } from '../x87/convert.js';
import { type Ext, INDEFINITE } from '../x87/ext80.js';
import { extract, remainder, scale } from '../x87/misc.js';
import type { FpEnv } from '../x87/round.js';
import { atan2, exp2Minus1, Trig, trig, ylog2x, ylog2xp1 } from '../x87/transcendental.js';
import { blocked, commit, ieMasked, stackOverflow, stackUnderflow, type Run } from './ops.js';
import { decTop, FSW_C0, FSW_C1, FSW_C2, FSW_C3, incTop, isEmpty, pop, push, readSt, writeSt } from './regs.js';

/** ST(0) = f(ST(0)). */
function onSt0(f: (env: FpEnv, x: Ext) => Ext): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
      return commit(ctx, env);
    }
    const r = f(env, readSt(ctx, 0));
    if (!blocked(env)) writeSt(ctx, 0, r);
    commit(ctx, env);
  };
}

/** ST(1) = f(ST(1), ST(0)), then pop. */
function onSt1Pop(f: (env: FpEnv, st1: Ext, st0: Ext) => Ext): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0) || isEmpty(ctx, 1)) {
      stackUnderflow(env);
      if (!ieMasked(env)) return commit(ctx, env);
      writeSt(ctx, 1, INDEFINITE);
    } else {
      const r = f(env, readSt(ctx, 1), readSt(ctx, 0));
      if (blocked(env)) return commit(ctx, env);
      writeSt(ctx, 1, r);
    }
    pop(ctx);
    commit(ctx, env);
  };
}

const setC2 = (ctx: { fsw: number }, on: boolean): void => { ctx.fsw = on ? ctx.fsw | FSW_C2 : ctx.fsw & ~FSW_C2; };

/** FSIN, FCOS: C2 = 1 (and nothing else) for |x| >= 2^63. */
function trigOne(op: Trig): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
      setC2(ctx, false);
      return commit(ctx, env);
    }
    const r = trig(env, readSt(ctx, 0), op);
    setC2(ctx, r === undefined);
    if (r !== undefined && !blocked(env)) writeSt(ctx, 0, r[0]);
    commit(ctx, env);
  };
}

/** FPTAN, FSINCOS, FXTRACT: ST(0) replaced, then a second result pushed. */
function twoResults(f: (env: FpEnv, x: Ext) => [Ext, Ext] | undefined, usesC2: boolean): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0) || !isEmpty(ctx, 7)) {
      if (isEmpty(ctx, 0)) stackUnderflow(env); else stackOverflow(env);
      if (ieMasked(env)) { writeSt(ctx, 0, INDEFINITE); push(ctx, INDEFINITE); }
      if (usesC2) setC2(ctx, false);
      return commit(ctx, env);
    }
    const r = f(env, readSt(ctx, 0));
    if (usesC2) setC2(ctx, r === undefined);
    if (r !== undefined && !blocked(env)) {
      writeSt(ctx, 0, r[0]);
      push(ctx, r[1]);
    }
    commit(ctx, env);
  };
}

const pair = (op: Trig) => (env: FpEnv, x: Ext): [Ext, Ext] | undefined => {
  const r = trig(env, x, op);
  return r === undefined ? undefined : [r[0], r[1]!];
};

/** FPREM/FPREM1: ST(0) = remainder of ST(0) / ST(1); C0 C3 C1 = quotient bits 2 1 0; C2 = incomplete. */
function prem(ieee: boolean): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0) || isEmpty(ctx, 1)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
      setC2(ctx, false);
      return commit(ctx, env);
    }
    const r = remainder(env, readSt(ctx, 0), readSt(ctx, 1), ieee);
    const held = blocked(env);
    if (!held) writeSt(ctx, 0, r.value);
    commit(ctx, env);
    const q = r.q;
    // Without a remainder (special operands, or an unmasked exception) only C1 and C2 clear.
    if (q < 0 || held) { ctx.fsw &= ~(FSW_C1 | FSW_C2); return; }
    ctx.fsw = (ctx.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3))
      | (q & 4 ? FSW_C0 : 0) | (q & 2 ? FSW_C3 : 0) | (q & 1 ? FSW_C1 : 0) | (r.incomplete ? FSW_C2 : 0);
  };
}

const fscale: Run = (ctx, _insn, env) => {
  if (isEmpty(ctx, 0) || isEmpty(ctx, 1)) {
    stackUnderflow(env);
    if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
    return commit(ctx, env);
  }
  const r = scale(env, readSt(ctx, 0), readSt(ctx, 1));
  if (!blocked(env)) writeSt(ctx, 0, r);
  commit(ctx, env);
};

const fincstp: Run = (ctx) => { incTop(ctx); ctx.fsw &= ~FSW_C1; };
const fdecstp: Run = (ctx) => { decTop(ctx); ctx.fsw &= ~FSW_C1; };

export const MATH_OPS: Run[] = [
  onSt0(exp2Minus1), onSt1Pop(ylog2x), twoResults(pair(Trig.Tan), true), onSt1Pop(atan2),
  twoResults((env, x) => extract(env, x), false), prem(true), fdecstp, fincstp,
  prem(false), onSt1Pop(ylog2xp1), onSt0(sqrt), twoResults(pair(Trig.SinCos), true),
  onSt0(roundToIntegral), fscale, trigOne(Trig.Sin), trigOne(Trig.Cos),
];
