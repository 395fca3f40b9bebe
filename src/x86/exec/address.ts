/**
 * Effective addresses and instruction-pointer arithmetic.
 *
 * Addresses are JS numbers as ExecContext expects: uint32 (or uint16) for 32/16-bit address
 * size; for 64-bit address size a signed number hi * 2^32 + (lo >>> 0), exact for every
 * canonical address (non-canonical ones stay non-canonical, so the context's check still fires).
 */
import type { Instruction } from '../instruction.js';
import { REG_NONE as REG_NONE_, REG_RIP as REG_RIP_ } from '../instruction.js';
import type { ExecContext } from './context.js';
import { RIP_LO as RIP_LO_ } from './context.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const REG_NONE = REG_NONE_, REG_RIP = REG_RIP_;
const RIP_LO = RIP_LO_;

const TWO32 = 4294967296;

/** RIP of the instruction after insn, as a (lo, hi) pair in nextRipOut. */
export const nextRipOut = { lo: 0, hi: 0 };
export function computeNextRip(ctx: ExecContext, insn: Instruction): void {
  const lo = (ctx.regs[RIP_LO] >>> 0) + insn.length;
  if (ctx.mode === 64) {
    nextRipOut.lo = lo | 0;
    nextRipOut.hi = (ctx.regs[RIP_LO + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
  } else {
    // EIP wraps at 32 bits (the CS limit check is the runner's); 16-bit code keeps IP in 16 bits.
    nextRipOut.lo = ctx.mode === 16 && (ctx.regs[RIP_LO] >>> 0) < 0x10000 ? lo & 0xffff : lo | 0;
    nextRipOut.hi = 0;
  }
}

/** RIP of the instruction after insn as an unsigned 64-bit value: an exit's npc. */
export function nextRipU64(ctx: ExecContext, insn: Instruction): bigint {
  computeNextRip(ctx, insn);
  return (BigInt(nextRipOut.hi >>> 0) << 32n) | BigInt(nextRipOut.lo >>> 0);
}

/** Moves RIP past insn. */
export function advance(ctx: ExecContext, insn: Instruction): void {
  const r = ctx.regs;
  const lo = (r[RIP_LO] >>> 0) + insn.length;
  if (ctx.mode === 64) {
    if (lo > 0xffffffff) r[RIP_LO + 1] = (r[RIP_LO + 1] + 1) | 0;
    r[RIP_LO] = lo | 0;
  } else {
    r[RIP_LO] = ctx.mode === 16 && (r[RIP_LO] >>> 0) < 0x10000 ? lo & 0xffff : lo | 0;
    r[RIP_LO + 1] = 0;
  }
}

/** Converts a (lo, hi) 64-bit pair to the signed address number. */
export function pairToAddress(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + (lo >>> 0);
}

/** Wraps an address number to the address size (2, 4: unsigned; 8: signed 64-bit form). */
export function wrapAddress(addr: number, addrSize: number): number {
  if (addrSize === 8) {
    if (addr >= -2147483648 && addr <= 2147483647) return addr;
    // Reduce into the signed 64-bit range; exact for |addr| < 2^53.
    const hi = Math.floor(addr / TWO32);
    const lo = addr - hi * TWO32;
    return (hi | 0) * TWO32 + lo;
  }
  if (addrSize === 4) return addr >>> 0;
  return addr & 0xffff;
}

/** The high int32 of a signed displacement number (disp may exceed 32 bits only for moffs64). */
function dispHigh(disp: number): number {
  if (disp >= -2147483648 && disp <= 2147483647) return disp < 0 ? -1 : 0;
  return Math.floor(disp / TWO32) | 0;
}

/** The last effectiveAddressPair() result. */
export const eaOut = { lo: 0, hi: 0 };

/**
 * The effective address as an exact (lo, hi) pair in eaOut, wrapped to the address size (hi 0
 * for 16/32-bit). LEA needs this: a 64-bit EA need not be canonical, so it may not fit a number.
 */
export function effectiveAddressPair(ctx: ExecContext, insn: Instruction): void {
  const m = insn.mem!;
  const r = ctx.regs;
  if (insn.addrSize !== 8) {
    eaOut.lo = effectiveAddress(ctx, insn) | 0;
    eaOut.hi = 0;
    return;
  }
  let lo = m.disp >>> 0;
  let hi = dispHigh(m.disp);
  if (m.base !== REG_NONE) {
    if (m.base === REG_RIP) {
      computeNextRip(ctx, insn);
      lo += nextRipOut.lo >>> 0;
      hi += nextRipOut.hi;
    } else {
      lo += r[m.base << 1] >>> 0;
      hi += r[(m.base << 1) + 1];
    }
  }
  if (m.index !== REG_NONE) {
    lo += (r[m.index << 1] >>> 0) * m.scale;
    hi += Math.imul(r[(m.index << 1) + 1], m.scale);
  }
  // lo < 2^36 here: fold the carries into hi.
  eaOut.hi = (hi + Math.floor(lo / TWO32)) | 0;
  eaOut.lo = lo | 0;
}

/**
 * The effective address (offset within the segment) of insn's memory operand:
 * base + index * scale + disp, wrapped to the address size. RIP-relative uses the next
 * instruction's RIP. insn.mem must be non-null.
 */
export function effectiveAddress(ctx: ExecContext, insn: Instruction): number {
  const size = insn.addrSize;
  const m = insn.mem!;
  const r = ctx.regs;
  if (size === 8) {
    // Fast path: a 32-bit displacement and base/index registers below 2^48 in magnitude (high
    // halves in [-2^16, 2^16), as canonical 48-bit addresses are): the exact sum stays below
    // 2^52, so the double is exact and no 64-bit wrap-around can happen.
    const b = m.base, x = m.index;
    if (b !== REG_RIP && (m.disp | 0) === m.disp) {
      let a = m.disp;
      if (b !== REG_NONE) {
        const hi = r[(b << 1) + 1]!;
        if (hi < -65536 || hi >= 65536) return effectiveAddressWide(ctx, insn);
        a += hi * TWO32 + (r[b << 1]! >>> 0);
      }
      if (x !== REG_NONE) {
        const hi = r[(x << 1) + 1]!;
        if (hi < -65536 || hi >= 65536) return effectiveAddressWide(ctx, insn);
        a += (hi * TWO32 + (r[x << 1]! >>> 0)) * m.scale;
      }
      return a;
    }
    return effectiveAddressWide(ctx, insn);
  }
  let a = m.disp | 0;
  if (m.base !== REG_NONE) {
    if (m.base === REG_RIP) {
      computeNextRip(ctx, insn);
      a += nextRipOut.lo;
    } else {
      a += r[m.base << 1];
    }
  }
  if (m.index !== REG_NONE) a += Math.imul(r[m.index << 1], m.scale);
  return size === 4 ? a >>> 0 : a & 0xffff;
}

/** A 64-bit effective address through the exact (lo, hi) pair arithmetic. */
function effectiveAddressWide(ctx: ExecContext, insn: Instruction): number {
  effectiveAddressPair(ctx, insn);
  return eaOut.hi * TWO32 + (eaOut.lo >>> 0);
}
