/**
 * Shifts and rotates: group 2 (C0 C1 D0 D1 D2 D3: ROL ROR RCL RCR SHL SHR SAL SAR) and
 * SHLD/SHRD (0F A4 A5 AC AD). Counts are masked to 5 bits (6 for 64-bit operands); a masked
 * count of 0 changes nothing (no flags, and no memory write). RCL/RCR rotate through CF over
 * size+1 bits. Flags the SDM leaves undefined (OF for counts > 1, AF) follow undefined-flags.ts.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { advance } from './address.js';
import { commitRm } from './commit.js';
import { rmAddress, rmRead, regRead } from './operands.js';
import { bit64, pairOut, sar64, shl64, shr64 } from './pair.js';
import { half, readGpr, SIZE_MASK, writeGpr } from './regs.js';
import { on } from './table.js';
import { shiftFlags, shiftDoubleFlags, rotateCountZeroWritesReg } from './undefined-flags.js';
import { carry } from './lazy-flags.js';

export const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;

/** The outcome of one shift: result (lo, hi), CF and OF bits; `affected` false when count 0. */
export const shiftOut = { hi: 0, cf: 0, of: 0 };

// One small function per operation on n-bit operands (n = 8, 16, 32; a zero-extended, uint32
// for n = 32; mask the n-bit mask): each returns the result (masked) and leaves CF and OF in
// shiftOut. shiftSmall dispatches on them; compiled blocks call them by name.

export function rolN(a: number, c: number, n: number, mask: number): number {
  const k = c % n;
  const r = k === 0 ? a : ((a << k) | (a >>> (n - k))) & mask;
  const cf = r & 1;
  shiftOut.cf = cf; shiftOut.of = ((r >>> (n - 1)) & 1) ^ cf;
  return r;
}

export function rorN(a: number, c: number, n: number, mask: number): number {
  const k = c % n;
  const r = k === 0 ? a : ((a >>> k) | (a << (n - k))) & mask;
  const cf = (r >>> (n - 1)) & 1;
  shiftOut.cf = cf; shiftOut.of = cf ^ ((r >>> (n - 2)) & 1);
  return r;
}

export function rclN(a: number, c: number, n: number, mask: number, cfIn: number): number {
  const k = n === 32 ? c : c % (n + 1);
  let r: number, cf: number;
  if (k === 0) { r = a; cf = cfIn; } else {
    r = ((a << k) | (cfIn << (k - 1)) | (k > 1 ? a >>> (n + 1 - k) : 0)) & mask;
    cf = (a >>> (n - k)) & 1;
  }
  shiftOut.cf = cf; shiftOut.of = ((r >>> (n - 1)) & 1) ^ cf;
  return r;
}

export function rcrN(a: number, c: number, n: number, mask: number, cfIn: number): number {
  const k = n === 32 ? c : c % (n + 1);
  let r: number, cf: number;
  if (k === 0) { r = a; cf = cfIn; } else {
    r = ((a >>> k) | (cfIn << (n - k)) | (k > 1 ? a << (n + 1 - k) : 0)) & mask;
    cf = (a >>> (k - 1)) & 1;
  }
  shiftOut.cf = cf; shiftOut.of = ((r >>> (n - 1)) ^ (r >>> (n - 2))) & 1;
  return r;
}

export function shlN(a: number, c: number, n: number, mask: number): number {
  const r = c < 32 ? (a << c) & mask : 0;
  const cf = c <= n ? (a >>> (n - c)) & 1 : 0;
  shiftOut.cf = cf; shiftOut.of = ((r >>> (n - 1)) & 1) ^ cf;
  return r;
}

export function shrN(a: number, c: number, n: number): number {
  shiftOut.cf = (a >>> (c - 1)) & 1; shiftOut.of = c === 1 ? (a >>> (n - 1)) & 1 : 0;
  return a >>> c;
}

export function sarN(a: number, c: number, n: number, mask: number): number {
  const s = n === 8 ? (a << 24) >> 24 : n === 16 ? (a << 16) >> 16 : a | 0;
  shiftOut.cf = (s >> (c - 1)) & 1; shiftOut.of = 0;
  return (s >> c) & mask;
}

/** Shift/rotate a (size 1/2/4, zero-extended or int32) by masked count c >= 1. */
export function shiftSmall(op: number, size: number, a: number, c: number, cfIn: number): number {
  const n = size * 8, mask = SIZE_MASK[size]!;
  a = size === 4 ? a >>> 0 : a;
  let r: number;
  switch (op) {
    case ROL: r = rolN(a, c, n, mask); break;
    case ROR: r = rorN(a, c, n, mask); break;
    case RCL: r = rclN(a, c, n, mask, cfIn); break;
    case RCR: r = rcrN(a, c, n, mask, cfIn); break;
    case SHL: case SAL: r = shlN(a, c, n, mask); break;
    case SHR: r = shrN(a, c, n); break;
    default: r = sarN(a, c, n, mask);
  }
  shiftOut.hi = 0;
  return size === 4 ? r | 0 : r;
}

// The same per operation on 64-bit operands (lo, hi), count 1..63: each returns the result lo
// and leaves its hi, CF and OF in shiftOut (cfIn: the carry-in of RCL/RCR). One return each,
// no comments inside: compiled blocks put these bodies in place of calls (helper-inline.ts).

export function rolPair(lo: number, hi: number, c: number, _cfIn: number): number {
  const l1 = shl64(lo, hi, c), h1 = pairOut.hi;
  const l2 = shr64(lo, hi, 64 - c), h2 = pairOut.hi;
  const rl = l1 | l2, rh = h1 | h2, cf = rl & 1;
  shiftOut.hi = rh; shiftOut.cf = cf; shiftOut.of = (rh >>> 31) ^ cf;
  return rl;
}

export function rorPair(lo: number, hi: number, c: number, _cfIn: number): number {
  const l1 = shr64(lo, hi, c), h1 = pairOut.hi;
  const l2 = shl64(lo, hi, 64 - c), h2 = pairOut.hi;
  const rl = l1 | l2, rh = h1 | h2, cf = rh >>> 31;
  shiftOut.hi = rh; shiftOut.cf = cf; shiftOut.of = cf ^ ((rh >>> 30) & 1);
  return rl;
}

export function rclPair(lo: number, hi: number, c: number, cfIn: number): number {
  let rl = shl64(lo, hi, c), rh = pairOut.hi;
  if (c - 1 < 32) rl |= cfIn << (c - 1); else rh |= cfIn << (c - 33);
  if (c > 1) { rl |= shr64(lo, hi, 65 - c); rh |= pairOut.hi; }
  const cf = bit64(lo, hi, 64 - c);
  shiftOut.hi = rh; shiftOut.cf = cf; shiftOut.of = (rh >>> 31) ^ cf;
  return rl;
}

export function rcrPair(lo: number, hi: number, c: number, cfIn: number): number {
  let rl = shr64(lo, hi, c), rh = pairOut.hi;
  if (64 - c < 32) rl |= cfIn << (64 - c); else rh |= cfIn << (32 - c);
  if (c > 1) { rl |= shl64(lo, hi, 65 - c); rh |= pairOut.hi; }
  shiftOut.hi = rh; shiftOut.cf = bit64(lo, hi, c - 1); shiftOut.of = ((rh >>> 31) ^ (rh >>> 30)) & 1;
  return rl;
}

export function shlPair(lo: number, hi: number, c: number, _cfIn: number): number {
  const rl = shl64(lo, hi, c);
  const rh = pairOut.hi, cf = bit64(lo, hi, 64 - c);
  shiftOut.hi = rh; shiftOut.cf = cf; shiftOut.of = (rh >>> 31) ^ cf;
  return rl;
}

export function shrPair(lo: number, hi: number, c: number, _cfIn: number): number {
  const rl = shr64(lo, hi, c);
  shiftOut.hi = pairOut.hi; shiftOut.cf = bit64(lo, hi, c - 1); shiftOut.of = c === 1 ? hi >>> 31 : 0;
  return rl;
}

export function sarPair(lo: number, hi: number, c: number, _cfIn: number): number {
  const rl = sar64(lo, hi, c);
  shiftOut.hi = pairOut.hi; shiftOut.cf = bit64(lo, hi, c - 1); shiftOut.of = 0;
  return rl;
}

/** Group 2 operation op (ModRM.reg order) on a 64-bit operand, count 1..63. */
export function shift64(op: number, lo: number, hi: number, c: number, cfIn: number): number {
  switch (op) {
    case ROL: return rolPair(lo, hi, c, cfIn);
    case ROR: return rorPair(lo, hi, c, cfIn);
    case RCL: return rclPair(lo, hi, c, cfIn);
    case RCR: return rcrPair(lo, hi, c, cfIn);
    case SHL: case SAL: return shlPair(lo, hi, c, cfIn);
    case SHR: return shrPair(lo, hi, c, cfIn);
    default: return sarPair(lo, hi, c, cfIn);
  }
}

/** The module-level names the pair shifts use (see alu.ts ALU_INLINE_SCOPE). */
export const SHIFT_INLINE_SCOPE = { shl64, shr64, sar64, bit64, pairOut, shiftOut } as const;

/** Group 2 on r/m with the count from imm8, 1, or CL. */
function group2(ctx: ExecContext, insn: Instruction): boolean {
  const op = insn.reg & 7, size = insn.opSize;
  const raw = insn.opcode <= 0xc1 ? insn.imm & 0xff : insn.opcode <= 0xd1 ? 1 : ctx.regs[2] & 0xff;
  const c = raw & (size === 8 ? 0x3f : 0x1f);
  const addr = rmAddress(ctx, insn);
  const a = rmRead(ctx, insn, size, addr), ah = half.hi;
  if (c === 0) {
    // Nothing changes, except that a 32-bit register destination is still written.
    if (insn.mod === 3 && rotateCountZeroWritesReg(size)) writeGpr(ctx, insn.rm, size, insn.rex, a, ah);
    advance(ctx, insn);
    return true;
  }
  const cfIn = carry(ctx);
  const r = size === 8 ? shift64(op, a, ah, c, cfIn) : shiftSmall(op, size, a, c, cfIn);
  const before = ctx.flags;
  shiftFlags(ctx, op, size, r, shiftOut.hi, shiftOut.cf, shiftOut.of);
  commitRm(ctx, insn, size, addr, r, shiftOut.hi, before);
  advance(ctx, insn);
  return true;
}

/** SHLD/SHRD r/m, reg, imm8/CL (0F A4 A5 AC AD). */
function shiftDouble(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize, left = insn.opcode < 0xa8;
  const raw = (insn.opcode & 1) === 0 ? insn.imm & 0xff : ctx.regs[2] & 0xff;
  const c = raw & (size === 8 ? 0x3f : 0x1f);
  const addr = rmAddress(ctx, insn);
  const s = regRead(ctx, insn, size), sh = half.hi;
  const d = rmRead(ctx, insn, size, addr), dh = half.hi;
  if (c === 0) {
    if (insn.mod === 3 && rotateCountZeroWritesReg(size)) writeGpr(ctx, insn.rm, size, insn.rex, d, dh);
    advance(ctx, insn);
    return true;
  }
  let rl: number, rh: number, cf: number;
  if (size === 8) {
    if (left) {
      rl = shl64(d, dh, c); rh = pairOut.hi;
      rl |= shr64(s, sh, 64 - c); rh |= pairOut.hi;
      cf = bit64(d, dh, 64 - c);
    } else {
      rl = shr64(d, dh, c); rh = pairOut.hi;
      rl |= shl64(s, sh, 64 - c); rh |= pairOut.hi;
      cf = bit64(d, dh, c - 1);
    }
  } else {
    // 32-bit: shift the 64-bit concatenation dest:src (left) or src:dest (right);
    // 16-bit: see shiftDouble16 for counts above 16.
    rh = 0;
    if (size === 4) {
      if (left) {
        rl = shl64(s, d, c); rl = pairOut.hi;
        cf = (d >>> (32 - c)) & 1;
      } else {
        rl = shr64(d, s, c);
        cf = (d >>> (c - 1)) & 1;
      }
    } else {
      const r = shiftDouble16(left, d, s, c);
      rl = r;
      cf = shiftDoubleOut.cf;
    }
  }
  const before = ctx.flags;
  shiftDoubleFlags(ctx, size, left, c, rl, rh, cf);
  commitRm(ctx, insn, size, addr, rl, rh, before);
  advance(ctx, insn);
  return true;
}

const shiftDoubleOut = { cf: 0 };

/**
 * 16-bit SHLD/SHRD for counts 1..31. Counts above 16 are undefined in the SDM; AMD shifts a
 * 48-bit pattern in which the source repeats: dest:src:src (SHLD, top 16 bits kept) and
 * src:src:dest (SHRD, low 16 bits kept), and reports CF = 0. For counts up to 16 both are the
 * plain definition.
 */
function shiftDouble16(left: boolean, d: number, s: number, c: number): number {
  if (left) {
    const v = d * 4294967296 + s * 65536 + s; // 48 bits, exact
    const shifted = (v * 2 ** c) % 2 ** 48;
    shiftDoubleOut.cf = c > 16 ? 0 : Math.floor(v / 2 ** (48 - c)) & 1;
    return Math.floor(shifted / 4294967296) & 0xffff;
  }
  const v = d + s * 65536 + s * 4294967296;
  shiftDoubleOut.cf = c > 16 ? 0 : Math.floor(v / 2 ** (c - 1)) & 1;
  return Math.floor(v / 2 ** c) & 0xffff;
}

on(0, [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3], group2);
on(1, [0xa4, 0xa5, 0xac, 0xad], shiftDouble);
