/**
 * Bit instructions: BT BTS BTR BTC (0F A3 AB B3 BB, and 0F BA /4-/7 with imm8), BSF/BSR
 * (0F BC/BD), TZCNT/LZCNT (F3 0F BC/BD), POPCNT (F3 0F B8).
 *
 * BT* with a register bit offset and a memory operand address the bit string: the offset is a
 * signed operand-size integer, the access is at EA + (offset >> log2(bits)) * size.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { ARITH_FLAGS, ZF } from './context.js';
import { advance, wrapAddress } from './address.js';
import { commitRm } from './commit.js';
import { memRead, regRead, regWrite, rmAddress, rmRead } from './operands.js';
import { bit64 } from './pair.js';
import { half } from './regs.js';
import { lockable, on } from './table.js';
import { BIT_SCAN_ZERO_KEEPS_DEST, bitScanFlags, bitTestFlags, countFlags } from './undefined-flags.js';

const TWO32 = 4294967296;
const BT = 0, BTS = 1, BTR = 2, BTC = 3;

function bitOp(ctx: ExecContext, insn: Instruction, kind: number, offLo: number, offHi: number, fromReg: boolean): void {
  const size = insn.opSize, bits = size * 8;
  let addr = 0;
  if (insn.mod !== 3) {
    addr = rmAddress(ctx, insn);
    if (fromReg) {
      // Signed bit offset -> signed byte displacement of the containing operand-size unit.
      let off: number;
      if (size === 8) off = offHi * TWO32 + (offLo >>> 0);
      else if (size === 4) off = offLo | 0;
      else off = (offLo << 16) >> 16;
      const unit = Math.floor(off / bits);
      addr = wrapAddress(addr + unit * size, insn.addrSize);
    }
  }
  const k = offLo & (bits - 1);
  const a = insn.mod === 3 ? rmRead(ctx, insn, size, 0) : memRead(ctx, insn.mem!.seg, addr, size);
  const ah = half.hi;
  const b = size === 8 ? bit64(a, ah, k) : (a >>> k) & 1;
  const before = ctx.flags;
  bitTestFlags(ctx, b);
  if (kind === BT) return;
  let lo = a, hi = ah;
  const setMask = k < 32 ? 1 << k : 0, setMaskHi = k >= 32 ? 1 << (k - 32) : 0;
  if (kind === BTS) { lo |= setMask; hi |= setMaskHi; }
  else if (kind === BTR) { lo &= ~setMask; hi &= ~setMaskHi; }
  else { lo ^= setMask; hi ^= setMaskHi; }
  commitRm(ctx, insn, size, addr, lo, hi, before);
}

/** 0F A3 BT, AB BTS, B3 BTR, BB BTC with the bit offset in a register. */
function bitTestReg(ctx: ExecContext, insn: Instruction): boolean {
  const kind = (insn.opcode >> 3) & 3;
  const off = regRead(ctx, insn, insn.opSize), offHi = half.hi;
  bitOp(ctx, insn, kind, off, offHi, true);
  advance(ctx, insn);
  return true;
}

/** 0F BA /4 BT, /5 BTS, /6 BTR, /7 BTC with imm8. */
function bitTestImm(ctx: ExecContext, insn: Instruction): boolean {
  const sub = insn.reg & 7;
  if (sub < 4) return false;
  bitOp(ctx, insn, sub - 4, insn.imm & 0xff, 0, false);
  advance(ctx, insn);
  return true;
}

function lowestSet(lo: number, hi: number, size: number): number {
  if (size === 8 && lo === 0) return 32 + (31 - Math.clz32(hi & -hi));
  return 31 - Math.clz32(lo & -lo);
}

function highestSet(lo: number, hi: number, size: number): number {
  if (size === 8 && hi !== 0) return 63 - Math.clz32(hi);
  return 31 - Math.clz32(lo);
}

/** 0F BC/BD: BSF/BSR, or TZCNT/LZCNT with F3. */
function bitScan(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize, reverse = insn.opcode === 0xbd;
  const a = rmRead(ctx, insn, size, rmAddress(ctx, insn)), ah = half.hi;
  const zero = (size === 8 ? a | ah : a) === 0;
  if (insn.rep === 0xf3) {
    const bits = size * 8;
    let n: number;
    if (zero) n = bits;
    else if (reverse) n = bits - 1 - highestSet(a, ah, size);
    else n = lowestSet(a, ah, size);
    regWrite(ctx, insn, size, n, 0);
    countFlags(ctx, n === bits, n === 0);
  } else {
    const index = zero ? 0 : reverse ? highestSet(a, ah, size) : lowestSet(a, ah, size);
    if (!zero || !BIT_SCAN_ZERO_KEEPS_DEST) regWrite(ctx, insn, size, index, 0);
    bitScanFlags(ctx, zero, index);
  }
  advance(ctx, insn);
  return true;
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** F3 0F B8 POPCNT (without F3 it is JMPE, not an x86-64 instruction). */
function popcnt(ctx: ExecContext, insn: Instruction): boolean {
  if (insn.rep !== 0xf3) return false;
  const size = insn.opSize;
  const a = rmRead(ctx, insn, size, rmAddress(ctx, insn)), ah = half.hi;
  const n = popcount32(a) + (size === 8 ? popcount32(ah) : 0);
  regWrite(ctx, insn, size, n, 0);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | (n === 0 ? ZF : 0);
  advance(ctx, insn);
  return true;
}

on(1, [0xa3, 0xab, 0xb3, 0xbb], bitTestReg);
lockable(1, [0xab, 0xb3, 0xbb]);
on(1, 0xba, bitTestImm);
lockable(1, [0xba], 0xe0);
on(1, [0xbc, 0xbd], bitScan);
on(1, 0xb8, popcnt);
