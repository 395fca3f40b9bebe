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
  computeNextRipBy(ctx, insn.length);
}

/** computeNextRip for an instruction of len bytes. */
function computeNextRipBy(ctx: ExecContext, len: number): void {
  const lo = (ctx.regs[RIP_LO] >>> 0) + len;
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
  advanceBy(ctx, insn.length);
}

/**
 * Moves RIP past an instruction of len bytes. The specialised closures pass the length they
 * captured: reading it from the instruction object was a cache miss per run in cold code.
 */
export function advanceBy(ctx: ExecContext, len: number): void {
  const r = ctx.regs;
  const lo = (r[RIP_LO] >>> 0) + len;
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
  addressPairOf(ctx, insn.addrSize, m.base, m.index, m.scale, m.disp, insn.length);
}

/**
 * effectiveAddressPair over the operand's fields (addrSize, base, index, scale, disp of a
 * MemoryOperand; len the instruction's length, for RIP-relative operands).
 */
export function addressPairOf(ctx: ExecContext, addrSize: number, base: number, index: number, scale: number, disp: number, len: number): void {
  const r = ctx.regs;
  if (addrSize !== 8) {
    eaOut.lo = addressOf(ctx, addrSize, base, index, scale, disp, len) | 0;
    eaOut.hi = 0;
    return;
  }
  let lo = disp >>> 0;
  let hi = dispHigh(disp);
  if (base !== REG_NONE) {
    if (base === REG_RIP) {
      computeNextRipBy(ctx, len);
      lo += nextRipOut.lo >>> 0;
      hi += nextRipOut.hi;
    } else {
      lo += r[base << 1] >>> 0;
      hi += r[(base << 1) + 1];
    }
  }
  if (index !== REG_NONE) {
    lo += (r[index << 1] >>> 0) * scale;
    hi += Math.imul(r[(index << 1) + 1], scale);
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
  const m = insn.mem!;
  return addressOf(ctx, insn.addrSize, m.base, m.index, m.scale, m.disp, insn.length);
}

/**
 * effectiveAddress over the operand's fields (as addressPairOf). The specialised closures
 * capture those fields and call this: the instruction and its operand object are not read on
 * each run (in cold code each was a cache miss).
 */
export function addressOf(ctx: ExecContext, addrSize: number, base: number, index: number, scale: number, disp: number, len: number): number {
  const r = ctx.regs;
  if (addrSize === 8) {
    // Fast path: a 32-bit displacement and base (RIP included)/index registers below 2^48 in
    // magnitude (high halves in [-2^16, 2^16), as canonical 48-bit addresses are): the exact
    // sum stays below 2^52, so the double is exact and no 64-bit wrap-around can happen.
    if ((disp | 0) === disp) {
      let a = disp;
      if (base !== REG_NONE) {
        // RIP's halves sit where register REG_RIP's would (regs[RIP_LO] = regs[REG_RIP << 1]).
        const b = base === REG_RIP ? RIP_LO >> 1 : base;
        const hi = r[(b << 1) + 1]!;
        if (hi < -65536 || hi >= 65536) return addressWide(ctx, base, index, scale, disp, len);
        a += hi * TWO32 + (r[b << 1]! >>> 0);
        if (base === REG_RIP) a += len;
      }
      if (index !== REG_NONE) {
        const hi = r[(index << 1) + 1]!;
        if (hi < -65536 || hi >= 65536) return addressWide(ctx, base, index, scale, disp, len);
        a += (hi * TWO32 + (r[index << 1]! >>> 0)) * scale;
      }
      return a;
    }
    return addressWide(ctx, base, index, scale, disp, len);
  }
  let a = disp | 0;
  if (base !== REG_NONE) {
    if (base === REG_RIP) {
      computeNextRipBy(ctx, len);
      a += nextRipOut.lo;
    } else {
      a += r[base << 1];
    }
  }
  if (index !== REG_NONE) a += Math.imul(r[index << 1], scale);
  return addrSize === 4 ? a >>> 0 : a & 0xffff;
}

/** A 64-bit effective address through the exact (lo, hi) pair arithmetic. */
function addressWide(ctx: ExecContext, base: number, index: number, scale: number, disp: number, len: number): number {
  addressPairOf(ctx, 8, base, index, scale, disp, len);
  return eaOut.hi * TWO32 + (eaOut.lo >>> 0);
}
