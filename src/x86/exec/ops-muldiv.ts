/**
 * MUL, IMUL (one, two and three operands), DIV, IDIV with #DE.
 *
 * Flags the SDM leaves undefined follow the hardware policy in undefined-flags.ts.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault } from './context.js';
import { advance } from './address.js';
import { immediate, regRead, regWrite, rmAddress, rmRead } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { on } from './table.js';
import { divFlags, mulFlags } from './undefined-flags.js';
import { mulS32, mulS64, mulU32, mulU64, pairToBigU, TWO_M32, wide } from './wide.js';

function sext(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}

/**
 * Signed 64 x 64 (IMUL r64): low part in wide.w0/w1, high part in w2/w3; returns whether the high
 * part is significant (CF/OF). One return, no comments inside: compiled blocks put this body in
 * place of a call (helper-inline.ts).
 */
export function imulPair(a: number, ah: number, b: number, bh: number): boolean {
  let ovf: boolean;
  if ((ah | bh) === 0) {
    mulU32(a, b);
    wide.w2 = 0; wide.w3 = 0;
    ovf = wide.w1 < 0;
  } else if (ah === a >> 31 && bh === b >> 31) {
    mulS32(a, b);
    const ext = wide.w1 < 0 ? -1 : 0;
    wide.w2 = ext; wide.w3 = ext;
    ovf = false;
  } else {
    mulS64(a, ah, b, bh);
    const ext = wide.w1 < 0 ? -1 : 0;
    ovf = wide.w2 !== ext || wide.w3 !== ext;
  }
  return ovf;
}

/**
 * Signed 32 x 32 (IMUL r32): the product in wide.w0 (low) and w1 (high); returns whether the
 * high half is significant (CF/OF). One return: compiled blocks put this body in place of a call.
 */
export function imul32(a: number, b: number): boolean {
  mulS32(a, b);
  return wide.w1 !== wide.w0 >> 31;
}

/**
 * Full product of a and b (operand size) into wide: w0/w1 = low size-part (lo, hi),
 * w2/w3 = high size-part (lo, hi). Returns whether the high part is significant
 * (CF/OF: unsigned high != 0, signed high != sign extension of the low part).
 */
export function product(size: number, signed: boolean, a: number, ah: number, b: number, bh: number): boolean {
  if (size === 8) {
    if (signed) return imulPair(a, ah, b, bh);
    // Unsigned operands below 2^32: one 32 x 32 product.
    if ((ah | bh) === 0) {
      mulU32(a, b);
      wide.w2 = 0; wide.w3 = 0;
      return false;
    }
    mulU64(a, ah, b, bh);
    return (wide.w2 | wide.w3) !== 0;
  }
  if (size === 4) {
    const ovf = signed ? imul32(a, b) : (mulU32(a, b), wide.w1 !== 0);
    wide.w2 = wide.w1; wide.w1 = 0; wide.w3 = 0;
    return ovf;
  }
  const bits = size * 8;
  const p = signed ? sext(a, size) * sext(b, size) : a * b;
  const mask = size === 1 ? 0xff : 0xffff;
  const lo = p & mask, hi = (p >> bits) & mask;
  wide.w0 = lo; wide.w1 = 0; wide.w2 = hi; wide.w3 = 0;
  return signed ? sext(lo, size) !== p : hi !== 0;
}

/** The module-level names imulPair uses (see alu.ts ALU_INLINE_SCOPE). */
export const MULDIV_INLINE_SCOPE = { mulU32, mulS32, mulS64, mulU64, wide, TWO_M32 } as const;

/** F6/F7 /4 MUL, /5 IMUL: rDX:rAX (AX for bytes) = rAX * r/m. */
export function mulAcc(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize, signed = (insn.reg & 7) === 5;
  const b = rmRead(ctx, insn, size, rmAddress(ctx, insn)), bh = half.hi;
  const a = readGpr(ctx, 0, size, 0), ah = half.hi;
  const ovf = product(size, signed, a, ah, b, bh);
  const lo = wide.w0, lohi = wide.w1;
  if (size === 1) {
    writeGpr(ctx, 0, 2, 0, lo | (wide.w2 << 8), 0);
  } else {
    writeGpr(ctx, 0, size, 0, lo, lohi);
    writeGpr(ctx, 2, size, 0, wide.w2, wide.w3);
  }
  mulFlags(ctx, ovf);
  advance(ctx, insn);
  return true;
}

/** 0F AF IMUL reg, r/m; 69 / 6B IMUL reg, r/m, imm. */
function imulReg(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const a = rmRead(ctx, insn, size, rmAddress(ctx, insn)), ah = half.hi;
  let b: number, bh: number;
  if (insn.map === 1) { b = regRead(ctx, insn, size); bh = half.hi; } else { b = immediate(insn, size); bh = half.hi; }
  const ovf = product(size, true, a, ah, b, bh);
  const lo = wide.w0, lohi = wide.w1;
  regWrite(ctx, insn, size, lo, lohi);
  mulFlags(ctx, ovf);
  advance(ctx, insn);
  return true;
}

function divideError(insn: Instruction, why: string): X86Fault {
  return new X86Fault(0, undefined, `${insn.mnemonic}: ${why}`);
}

/** The remainder divDigit leaves. */
let digitRem = 0;

/**
 * One step of long division by den < 2^32: (rem * 2^16 + digit) / den with rem < den. The
 * partial dividend is below 2^48, exact as a double, and the quotient below 2^16, so the
 * rounded division errs by under 2^-37 while a non-integer quotient lies at least 1/den > 2^-32
 * from the next integer: its floor is exact. Returns the quotient digit.
 */
function divDigit(rem: number, digit: number, den: number): number {
  const x = rem * 65536 + digit, q = Math.floor(x / den);
  digitRem = x - q * den;
  return q;
}

/** F6/F7 /6 DIV, /7 IDIV. */
export function divAcc(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize, signed = (insn.reg & 7) === 7;
  const d = rmRead(ctx, insn, size, rmAddress(ctx, insn)), dh = half.hi;
  if ((size === 8 ? d | dh : d) === 0) {
    throw divideError(insn, 'division by zero');
  }
  let q: number, qh = 0, r: number, rh = 0;
  if (size <= 2) {
    const mask = size === 1 ? 0xff : 0xffff;
    const n = size === 1 ? readGpr(ctx, 0, 2, 0) : (readGpr(ctx, 2, 2, 0) << 16) | readGpr(ctx, 0, 2, 0);
    const num = signed ? (size === 1 ? (n << 16) >> 16 : n | 0) : n >>> 0;
    const den = signed ? sext(d, size) : d;
    const qq = Math.trunc(num / den);
    if (signed ? qq > mask >> 1 || qq < -((mask >> 1) + 1) : qq > mask) throw divideError(insn, 'quotient overflow');
    q = qq & mask;
    r = (num - qq * den) & mask;
  } else if (size === 4) {
    const lo = readGpr(ctx, 0, 4, 0), hi = readGpr(ctx, 2, 4, 0);
    const small = signed ? (hi === 0 && lo >= 0) || (hi === -1 && lo < 0) : hi === 0;
    if (small) {
      const num = signed ? lo : lo >>> 0, den = signed ? d : d >>> 0;
      const qq = Math.trunc(num / den);
      if (signed ? qq > 0x7fffffff || qq < -0x80000000 : qq > 0xffffffff) throw divideError(insn, 'quotient overflow');
      q = qq | 0; r = (num - qq * den) | 0;
    } else {
      let num = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      let den = BigInt(d >>> 0);
      if (signed) { num = BigInt.asIntN(64, num); den = BigInt.asIntN(32, den); }
      const qq = num / den;
      if (signed ? qq > 0x7fffffffn || qq < -0x80000000n : qq > 0xffffffffn) throw divideError(insn, 'quotient overflow');
      q = Number(BigInt.asIntN(32, qq)); r = Number(BigInt.asIntN(32, num - qq * den));
    }
  } else if (!signed && (readGpr(ctx, 2, 8, 0) | half.hi) === 0 && (ctx.regs[1]! >>> 0) < 0x100000 && (dh >>> 0) < 0x100000) {
    // Unsigned, RDX = 0 and both below 2^52 (most 64-bit divisions): doubles, exactly. The
    // rounded quotient is off by at most one, and every product here stays below 2^53.
    const num = (ctx.regs[1]! >>> 0) * 4294967296 + (ctx.regs[0]! >>> 0), den = (dh >>> 0) * 4294967296 + (d >>> 0);
    let qq = Math.floor(num / den), rr = num - qq * den;
    if (rr < 0) { qq--; rr += den; } else if (rr >= den) { qq++; rr -= den; }
    q = qq | 0; qh = Math.floor(qq / 4294967296) | 0;
    r = rr | 0; rh = Math.floor(rr / 4294967296) | 0;
  } else if (!signed && dh === 0 && ctx.regs[5] === 0 && (ctx.regs[4]! >>> 0) < (d >>> 0)) {
    // Unsigned by a divisor below 2^32, RDX below it (no overflow; the hash and modulo shapes
    // of 64-bit code): long division of RAX in 16-bit digits with RDX as the first remainder.
    const den = d >>> 0, lo = ctx.regs[0]! >>> 0, lh = ctx.regs[1]! >>> 0;
    const q3 = divDigit(ctx.regs[4]! >>> 0, lh >>> 16, den), q2 = divDigit(digitRem, lh & 0xffff, den);
    const q1 = divDigit(digitRem, lo >>> 16, den), q0 = divDigit(digitRem, lo & 0xffff, den);
    qh = (q3 << 16) | q2; q = (q1 << 16) | q0;
    r = digitRem | 0;
  } else {
    const lo = readGpr(ctx, 0, 8, 0), loh = half.hi, hi = readGpr(ctx, 2, 8, 0), hih = half.hi;
    let num = (pairToBigU(hi, hih) << 64n) | pairToBigU(lo, loh);
    let den = pairToBigU(d, dh);
    if (signed) { num = BigInt.asIntN(128, num); den = BigInt.asIntN(64, den); }
    const qq = num / den;
    if (signed ? qq > 0x7fffffffffffffffn || qq < -0x8000000000000000n : qq > 0xffffffffffffffffn) {
      throw divideError(insn, 'quotient overflow');
    }
    const qu = BigInt.asUintN(64, qq), ru = BigInt.asUintN(64, num - qq * den);
    q = Number(qu & 0xffffffffn) | 0; qh = Number(qu >> 32n) | 0;
    r = Number(ru & 0xffffffffn) | 0; rh = Number(ru >> 32n) | 0;
  }
  if (size === 1) {
    writeGpr(ctx, 0, 2, 0, (q & 0xff) | ((r & 0xff) << 8), 0);
  } else {
    writeGpr(ctx, 0, size, 0, q, qh);
    writeGpr(ctx, 2, size, 0, r, rh);
  }
  divFlags(ctx);
  advance(ctx, insn);
  return true;
}

on(1, 0xaf, imulReg);
on(0, [0x69, 0x6b], imulReg);
