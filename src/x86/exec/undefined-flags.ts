/**
 * Where the SDM says a flag (or result) is "undefined", tsvisor does what this host's hardware
 * does, so the executor can be diffed against native execution under KVM. Every such choice is
 * here, in one place, checked by test/exec/native-oracle.test.ts against the CPU running the tests.
 */
import type { ExecContext } from './context.js';
import { AF, ARITH_FLAGS, CF, OF, PF, SF, ZF } from './context.js';
import { szp } from './flags.js';

/**
 * MUL/IMUL: CF = OF = (the high part is significant); SF, ZF, PF from the low result; AF 0.
 */
export function mulFlags(ctx: ExecContext, size: number, overflow: boolean, lo: number, lohi: number,
  _hi: number, _hihi: number): void {
  const f = szp(lo, lohi, size) | (overflow ? CF | OF : 0);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
}

/** DIV/IDIV: all six arithmetic flags undefined; left unchanged. */
export function divFlags(_ctx: ExecContext): void {
  // unchanged
}

/**
 * Shifts/rotates with count >= 1: rotates (ROL ROR RCL RCR) change only CF and OF; shifts set
 * SF ZF PF from the result, CF, OF, and AF.
 */
export function shiftFlags(ctx: ExecContext, op: number, size: number, _count: number, lo: number, hi: number,
  cf: number, of: number, _a: number, _ah: number): void {
  if (op < 4) {
    ctx.flags = (ctx.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
    return;
  }
  const f = szp(lo, hi, size) | (cf ? CF : 0) | (of ? OF : 0);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
}

/** SHLD/SHRD: SF ZF PF from the result, CF last bit out, OF = sign changed, AF 0. */
export function shiftDoubleFlags(ctx: ExecContext, size: number, _count: number, lo: number, hi: number,
  cf: number, d: number, dh: number): void {
  const signR = size === 8 ? hi < 0 : ((lo >>> (size * 8 - 1)) & 1) === 1;
  const signD = size === 8 ? dh < 0 : ((d >>> (size * 8 - 1)) & 1) === 1;
  const f = szp(lo, hi, size) | (cf ? CF : 0) | (signR !== signD ? OF : 0);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
}

/** A shift/rotate by a masked count of 0 still writes a 32-bit register (zero-extending it). */
export function rotateCountZeroWritesReg(size: number): boolean {
  return size === 4;
}

/** BSF/BSR: ZF from the source; the others (CF OF SF AF PF) are left unchanged. */
export function bitScanFlags(ctx: ExecContext, zero: boolean): void {
  ctx.flags = (ctx.flags & ~ZF) | (zero ? ZF : 0);
}

/** BSF/BSR with a zero source leave the destination unchanged (AMD documents this). */
export const BIT_SCAN_ZERO_KEEPS_DEST = true;

/** BT/BTS/BTR/BTC: CF = the bit; OF SF AF PF unchanged. */
export function bitTestFlags(ctx: ExecContext, bit: number): void {
  ctx.flags = (ctx.flags & ~CF) | (bit ? CF : 0);
}

export { AF, PF, SF };

/** TZCNT/LZCNT: CF = source was zero, ZF = result is zero; OF SF AF PF left unchanged. */
export function countFlags(ctx: ExecContext, cf: boolean, zf: boolean): void {
  ctx.flags = (ctx.flags & ~(CF | ZF)) | (cf ? CF : 0) | (zf ? ZF : 0);
}

/** CMOVcc with a false condition still writes (zero-extends) a 32-bit destination register. */
export function cmovFalseWritesReg(): boolean {
  return true;
}

/**
 * CMPXCHG r32, r32 whose comparison fails: the destination register is written back (so a
 * 32-bit one is zero-extended) as well as EAX.
 */
export function cmpxchgFailWritesDest(size: number): boolean {
  return size === 4;
}

/** DAA/DAS: OF is undefined; 0 here (to be matched against hardware). */
export function decimalAdjustOf(_das: boolean, _oldAl: number, _al: number): number {
  return 0;
}

/** AAA/AAS: OF SF ZF PF undefined; from the resulting AL here (to be matched against hardware). */
export function asciiAdjustFlags(_aas: boolean, _oldAl: number, _adjust: boolean, al: number): number {
  return szp(al, 0, 1);
}
