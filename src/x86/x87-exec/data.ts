/**
 * The x87 data instructions as instruction-form handlers: loads (FLD, FILD, FBLD, constants),
 * stores (FST/FSTP, FIST/FISTP, FISTTP, FBSTP), register moves (FLD/FST ST(i), FXCH, FCMOVcc),
 * arithmetic and comparisons with memory or register operands, FCHS/FABS/FTST/FXAM, FFREE.
 * The rules they share (stack faults, masked responses, commit) are ops.ts.
 */
import { X86Fault } from '../exec/context.js';
import { examine, EXAMINE_EMPTY } from '../x87/compare.js';
import { CONSTANTS } from '../x87/constants.js';
import { fromBcd, toBcd, toIeee, toInt, DOUBLE, SINGLE } from '../x87/convert.js';
import { type Ext, fromBytes, INDEFINITE, toBytes, zero } from '../x87/ext80.js';
import { DE, type FpEnv, IE, PE } from '../x87/round.js';
import { bigToBytes, MemFormat, readBytes, readOperand, writeBytes } from './memory.js';
import {
  arithmeticTo, commit, compareSt0, CompareTo, ieMasked, load, type Run, stackUnderflow, storeBlocked,
} from './ops.js';
import { FSW_C0, FSW_C1, FSW_C2, FSW_C3, isEmpty, physOf, pop, readSt, writeSt } from './regs.js';

export function fldMem(fmt: MemFormat): Run {
  return (ctx, insn, env) => {
    const x = readOperand(ctx, insn, fmt);
    if (x.denormal && isEmpty(ctx, 7)) env.flags |= DE;
    load(ctx, env, quietOnLoad(env, x.value));
  };
}

/** A single/double SNaN is invalid on load and arrives quieted. */
function quietOnLoad(env: FpEnv, x: Ext): Ext {
  if (x.exp === 0x7fff && (x.sig & (1n << 63n)) && !(x.sig & (1n << 62n)) && (x.sig & ((1n << 62n) - 1n))) {
    env.flags |= IE;
    return { ...x, sig: x.sig | (1n << 62n) };
  }
  return x;
}

export const fld80: Run = (ctx, insn, env) => load(ctx, env, fromBytes(readBytes(ctx, insn, 10)));
export const fbld: Run = (ctx, insn, env) => load(ctx, env, fromBcd(readBytes(ctx, insn, 10)));

/** Stores ST(0) through `convert` (undefined source: empty register, the format's indefinite). */
export function storeFrom(convert: (env: FpEnv, x: Ext | undefined) => Uint8Array, popAfter: boolean): Run {
  return (ctx, insn, env) => {
    env.c1 = 0;
    let bytes: Uint8Array;
    if (isEmpty(ctx, 0)) {
      stackUnderflow(env);
      bytes = convert(env, undefined);
    } else bytes = convert(env, readSt(ctx, 0));
    if (storeBlocked(env)) {
      // Nothing is stored, so nothing was rounded: no PE, C1 clear.
      env.flags &= ~PE;
      if (env.c1 > 0) env.c1 = 0;
      return commit(ctx, env);
    }
    writeBytes(ctx, insn, bytes);
    if (popAfter) pop(ctx);
    commit(ctx, env);
  };
}

export const asSingle = (env: FpEnv, x: Ext | undefined): Uint8Array => bigToBytes(x ? toIeee(env, x, SINGLE) : 0xffc00000n, 4);
export const asDouble = (env: FpEnv, x: Ext | undefined): Uint8Array => bigToBytes(x ? toIeee(env, x, DOUBLE) : 0xfff8000000000000n, 8);
export const asExtended = (_env: FpEnv, x: Ext | undefined): Uint8Array => toBytes(x ?? INDEFINITE);
export const asBcd = (env: FpEnv, x: Ext | undefined): Uint8Array =>
  x ? toBcd(env, x) : Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff);
export function asInt(bits: number, truncate: boolean): (env: FpEnv, x: Ext | undefined) => Uint8Array {
  return (env: FpEnv, x: Ext | undefined): Uint8Array =>
    bigToBytes(x ? toInt(env, x, bits, truncate) : -(1n << BigInt(bits - 1)), bits / 8);
}

/** FISTTP exists with SSE3 (as CPUID reports it); #UD otherwise. */
export function fisttp(bits: number): Run {
  const store = storeFrom(asInt(bits, true), true);
  return (ctx, insn, env, platform) => {
    if (!platform.hasFisttp(ctx)) throw new X86Fault(6, undefined, `${insn.mnemonic}: FISTTP needs SSE3 (CPUID.1:ECX.SSE3 = 0)`);
    store(ctx, insn, env, platform);
  };
}

/** FST/FSTP ST(i): an exact copy of ST(0) (no exceptions but stack underflow). */
export function fstSt(popAfter: boolean): (i: number) => Run {
  return (i) => (ctx, _insn, env) => {
    if (isEmpty(ctx, 0)) {
      stackUnderflow(env);
      if (!ieMasked(env)) return commit(ctx, env);
      writeSt(ctx, i, INDEFINITE);
    } else {
      ctx.st[i]!.set(ctx.st[0]!);
      writeSt(ctx, i, readSt(ctx, i));
    }
    if (popAfter) pop(ctx);
    commit(ctx, env);
  };
}

/**
 * D9 D8+i (undocumented "FSTP1"/FSTPNCE): ST(i) = ST(0), then pop; an empty ST(0) raises
 * nothing and stores nothing (checked against the host).
 */
export function fstpNoCheck(i: number): Run {
  return (ctx, _insn, env) => {
    if (!isEmpty(ctx, 0)) {
      ctx.st[i]!.set(ctx.st[0]!);
      writeSt(ctx, i, readSt(ctx, i));
    }
    pop(ctx);
    commit(ctx, env);
  };
}

export function fldSt(i: number): Run {
  return (ctx, _insn, env) => load(ctx, env, isEmpty(ctx, i) ? undefined : readSt(ctx, i));
}

export function fxch(i: number): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0) || isEmpty(ctx, i)) {
      stackUnderflow(env);
      if (!ieMasked(env)) return commit(ctx, env);
      if (isEmpty(ctx, 0)) writeSt(ctx, 0, INDEFINITE);
      if (isEmpty(ctx, i)) writeSt(ctx, i, INDEFINITE);
    }
    const a = readSt(ctx, 0);
    writeSt(ctx, 0, readSt(ctx, i));
    writeSt(ctx, i, a);
    env.c1 = 0;
    commit(ctx, env);
  };
}

// ---- arithmetic and comparisons ---------------------------------------------------------------

export function arithMem(fmt: MemFormat, op: number): Run {
  return (ctx, insn, env) => arithmeticTo(ctx, env, op, 0, readOperand(ctx, insn, fmt), false);
}

export function compareMem(fmt: MemFormat, pops: number): Run {
  return (ctx, insn, env) => { compareSt0(ctx, env, readOperand(ctx, insn, fmt), true, pops, CompareTo.Fsw); };
}

/** ST(dst) = ST(dst) op ST(src), then pop if asked (op by ModRM.reg as arithmetic() takes it). */
export function arithReg(op: number, dst: number, src: number, popAfter: boolean): Run {
  return (ctx, _insn, env) => arithmeticTo(ctx, env, op, dst, src, popAfter);
}

export function compareReg(i: number, ordered: boolean, pops: number, to: CompareTo): Run {
  return (ctx, _insn, env) => {
    const fl = compareSt0(ctx, env, i, ordered, pops, to);
    if (fl >= 0) ctx.flags = (ctx.flags & ~0x8d5) | fl; // ZF PF CF from the outcome; OF SF AF cleared
  };
}

/** FCMOVcc: condition from RFLAGS (B, E, BE, U and their negations). */
const FCMOV_CONDITIONS: ((fl: number) => boolean)[] = [
  (fl) => (fl & 1) !== 0, (fl) => (fl & 0x40) !== 0, (fl) => (fl & 0x41) !== 0, (fl) => (fl & 4) !== 0,
];
export function fcmov(cc: number, negate_: boolean): (i: number) => Run {
  return (i) => (ctx, _insn, env) => {
    env.c1 = -1; // C1 changes only on a stack fault (checked against the host)
    if (isEmpty(ctx, 0) || isEmpty(ctx, i)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
    } else if (FCMOV_CONDITIONS[cc]!(ctx.flags) !== negate_) {
      writeSt(ctx, 0, readSt(ctx, i));
    }
    commit(ctx, env);
  };
}

/** Operations on ST(0) alone that only need it non-empty: FCHS, FABS. */
export function unary(f: (x: Ext) => Ext): Run {
  return (ctx, _insn, env) => {
    if (isEmpty(ctx, 0)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(ctx, 0, INDEFINITE);
    } else writeSt(ctx, 0, f(readSt(ctx, 0)));
    commit(ctx, env);
  };
}

export const ftst: Run = (ctx, _insn, env) => { compareSt0(ctx, env, zero(0), true, 0, CompareTo.Fsw); };

/** FXAM: the class in C3 C2 C0 and the sign in C1, of the register even when it is empty. */
export const fxam: Run = (ctx) => {
  const x = readSt(ctx, 0);
  const cc = isEmpty(ctx, 0) ? EXAMINE_EMPTY : examine(x);
  ctx.fsw = (ctx.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc | (x.sign ? FSW_C1 : 0);
};

export function fldConst(k: number): Run {
  return (ctx, _insn, env) => load(ctx, env, CONSTANTS[k]!(env.rc));
}

/** FFREE ST(i) (and the undocumented FFREEP, DF C0+i, which also pops). */
export function ffree(popAfter: boolean): (i: number) => Run {
  return (i) => (ctx, _insn, env) => {
    ctx.ftw &= ~(1 << physOf(ctx, i));
    if (popAfter) pop(ctx);
    commit(ctx, env);
  };
}
export const fnop: Run = () => {};

