/**
 * What the x87 data instructions (data.ts, math-ops.ts) share: the two-operand
 * arithmetic and comparison on the register stack, loads, and the exception rules. Each works
 * through an FpEnv (src/x86/x87/round.ts) and ends with commit(), which applies the rules of
 * Intel SDM vol. 1, 8.5 as checked against the host: a stack fault is IE + SF (C1 = 1
 * overflow, 0 underflow); a masked exception delivers its default result; an unmasked IE, DE
 * or ZE leaves the destination (and TOP) unchanged; an unmasked OE or UE stores the
 * exponent-adjusted result in a register but nothing to memory; ES/B follow.
 */
import { add, div, mul, sub } from '../x87/arith.js';
import { compare, COMPARE_EFLAGS, COMPARE_FSW, UNORDERED } from '../x87/compare.js';
import { Cls, classify, type Ext, INDEFINITE } from '../x87/ext80.js';
import { DE, type FpEnv, IE, OE, SF, UE, ZE } from '../x87/round.js';
import type { Instruction } from '../instruction.js';
import type { X87Context, X87Platform } from './context.js';
import { FSW_C0, FSW_C1, FSW_C2, FSW_C3, isEmpty, pop, push, readSt, updateSummary, writeSt, type X87File } from './regs.js';

/** One x87 instruction form's work (after the #NM/#MF checks; RIP is advanced by the caller). */
export type Run = (ctx: X87Context, insn: Instruction, env: FpEnv, platform: X87Platform) => void;

/** Exceptions that, unmasked, suppress a register result. */
const PRE = IE | DE | ZE;
/** Exceptions that, unmasked, suppress a memory store. */
const STORE_BLOCKING = IE | DE | ZE | OE | UE;

export const unmasked = (env: FpEnv, bits: number): boolean => (env.flags & ~env.masks & bits) !== 0;
export const blocked = (env: FpEnv): boolean => unmasked(env, PRE);
export const storeBlocked = (env: FpEnv): boolean => unmasked(env, STORE_BLOCKING);

export function stackUnderflow(env: FpEnv): void {
  env.flags |= IE | SF;
  env.c1 = 0;
}
export function stackOverflow(env: FpEnv): void {
  env.flags |= IE | SF;
  env.c1 = 1;
}
/** Whether a masked response applies to a stack fault or invalid operation. */
export const ieMasked = (env: FpEnv): boolean => (env.masks & IE) !== 0;

/** Ends an instruction: exception flags (sticky), C1 (unless left alone: -1), ES/B. */
export function commit(f: X87File, env: FpEnv): void {
  f.fsw |= env.flags & 0x7f;
  if (env.c1 >= 0) f.fsw = env.c1 ? f.fsw | FSW_C1 : f.fsw & ~FSW_C1;
  updateSummary(f);
}

/** The two-operand arithmetic by ModRM.reg (0 add, 1 mul, 4 d-s, 5 s-d, 6 d/s, 7 s/d). */
export function arithmetic(env: FpEnv, op: number, d: Ext, s: Ext): Ext {
  switch (op) {
    case 0: return add(env, d, s);
    case 1: return mul(env, d, s);
    case 4: return sub(env, d, s);
    case 5: return sub(env, s, d);
    case 6: return div(env, d, s);
    default: return div(env, s, d);
  }
}

/**
 * A memory operand as loaded: its value, and whether it was a single/double denormal (DE counts
 * only when the operation gets as far as its operands' values: not for an empty register or a
 * NaN or unsupported register operand).
 */
export interface MemOperand { value: Ext; denormal: boolean }

function operandDenormal(env: FpEnv, reg: Ext, src: Ext | MemOperand | number, op = 0): void {
  if (typeof src !== 'object' || !('denormal' in src) || !src.denormal) return;
  const c = classify(reg);
  // A zero divisor is seen first (as in arith.ts div): the dividend's DE does not count.
  if (op === 7 && c === Cls.Zero) return;
  if (c !== Cls.QNaN && c !== Cls.SNaN && c !== Cls.Unsupported) env.flags |= DE;
}
const valueOf = (f: X87File, src: Ext | MemOperand | number): Ext =>
  typeof src === 'number' ? readSt(f, src) : 'denormal' in src ? src.value : src;

/** ST(dst) = ST(dst) op src (src a value, or the register ST(srcIndex)); then pops if asked. */
export function arithmeticTo(f: X87File, env: FpEnv, op: number, dst: number, src: Ext | MemOperand | number, popAfter: boolean): void {
  const srcEmpty = typeof src === 'number' && isEmpty(f, src);
  env.c1 = 0;
  if (isEmpty(f, dst) || srcEmpty) {
    stackUnderflow(env);
    if (!ieMasked(env)) return commit(f, env);
    writeSt(f, dst, INDEFINITE);
  } else {
    const d = readSt(f, dst);
    operandDenormal(env, d, src, op);
    if (blocked(env)) return commit(f, env);
    const r = arithmetic(env, op, d, valueOf(f, src));
    if (blocked(env)) return commit(f, env);
    writeSt(f, dst, r);
  }
  if (popAfter) pop(f);
  commit(f, env);
}

/** Where a comparison's outcome goes. */
export const enum CompareTo { Fsw, Eflags }

/**
 * Compares ST(0) with src (a value or ST(srcIndex)) and pops `pops` times. Returns the EFLAGS
 * bits (ZF/PF/CF) for the FCOMI forms, or -1 when flags are to be left alone.
 */
export function compareSt0(f: X87File, env: FpEnv, src: Ext | MemOperand | number, ordered: boolean, pops: number, to: CompareTo): number {
  let outcome: number;
  if (isEmpty(f, 0) || (typeof src === 'number' && isEmpty(f, src))) {
    stackUnderflow(env);
    outcome = UNORDERED;
  } else {
    const a = readSt(f, 0);
    operandDenormal(env, a, src);
    outcome = compare(env, a, valueOf(f, src), ordered);
  }
  // FCOMI and friends leave C1 alone (checked against the host).
  env.c1 = to === CompareTo.Eflags && !(env.flags & SF) ? -1 : 0;
  // The outcome is reported even when the exception is unmasked; only the pops are held back.
  if (to === CompareTo.Fsw) f.fsw = (f.fsw & ~(FSW_C0 | FSW_C2 | FSW_C3)) | COMPARE_FSW[outcome]!;
  if (!unmasked(env, IE | DE)) for (let k = 0; k < pops; k++) pop(f);
  commit(f, env);
  return to === CompareTo.Eflags ? COMPARE_EFLAGS[outcome]! : -1;
}

/** Pushes a loaded value (undefined: the source register was empty). */
export function load(f: X87File, env: FpEnv, x: Ext | undefined): void {
  env.c1 = 0;
  if (x === undefined) {
    stackUnderflow(env);
    if (ieMasked(env)) push(f, INDEFINITE);
  } else if (!isEmpty(f, 7)) {
    stackOverflow(env);
    if (ieMasked(env)) push(f, INDEFINITE);
  } else if (!unmasked(env, IE)) {
    // An unmasked DE (denormal single/double source) does not hold the load back.
    push(f, x);
  }
  commit(f, env);
}
