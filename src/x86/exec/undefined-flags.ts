/**
 * Where the SDM says a flag (or result) is "undefined", tsvisor does what this project's
 * reference hardware does (AMD Zen, the CPU under the KVM the executor is diffed against), so
 * that the soft CPU and the assists match native execution. The flag choices are here, in one
 * place (the undefined *results* live with their instructions: 16-bit SHLD/SHRD counts above 16
 * in ops-shift.ts, BSWAP r16 in ops-move.ts, AAM/AAD flags in ops-bcd.ts); all of them were
 * derived from and are checked against this CPU by test/exec/native-diff*.test.ts (seeded random
 * instances, 64-bit and 32-bit code). Intel CPUs differ in several of these; those tests are
 * skipped on non-AMD hosts.
 */
import type { ExecContext } from './context.js';
import { AF as AF_, ARITH_FLAGS as ARITH_FLAGS_, CF as CF_, OF as OF_, PF as PF_, SF as SF_, ZF as ZF_ } from './context.js';
import { PARITY, szp } from './flags.js';
import { recordSzp, writeCfOf } from './lazy-flags.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const AF = AF_, ARITH_FLAGS = ARITH_FLAGS_, CF = CF_, OF = OF_, PF = PF_, SF = SF_, ZF = ZF_;

/** The module-level names mulFlags and shiftFlags use (see alu.ts ALU_INLINE_SCOPE). */
export const FLAG_POLICY_INLINE_SCOPE = { CF, OF, AF, recordSzp, writeCfOf } as const;

/** MUL/IMUL: CF = OF = (the high part is significant); SF ZF AF PF are left unchanged (AMD). */
export function mulFlags(ctx: ExecContext, overflow: boolean): void {
  writeCfOf(ctx, CF | OF, overflow ? CF | OF : 0);
}

/** DIV/IDIV (all undefined): AMD keeps CF and OF, clears SF ZF PF and sets AF. */
export function divFlags(ctx: ExecContext): void {
  ctx.flags = (ctx.flags & ~(SF | ZF | PF)) | AF;
}

/**
 * Shifts/rotates with count >= 1: rotates (ROL ROR RCL RCR) change only CF and OF; shifts set
 * SF ZF PF from the result, CF, OF (computed by the caller for every count: SHL: MSB(result) ^ CF,
 * SHR: MSB of the operand shifted count - 1 times, SAR: 0), and AF = 1 (AMD).
 * One exit and no comment inside: compiled blocks put this body in place of a call (helper-inline.ts).
 */
export function shiftFlags(ctx: ExecContext, op: number, size: number, lo: number, hi: number,
  cf: number, of: number): void {
  if (op < 4) writeCfOf(ctx, CF | OF, (cf ? CF : 0) | (of ? OF : 0));
  else recordSzp(ctx, size, lo, hi, (cf ? CF : 0) | (of ? OF : 0) | AF);
}

/**
 * SHLD/SHRD: SF ZF PF from the result, CF the last bit out, AF = 1 (AMD), and for every count
 * OF = MSB(result) ^ CF (SHLD) or MSB(result) ^ the next bit (SHRD): the sign-change rule of
 * count 1, extended the way AMD hardware extends it.
 */
export function shiftDoubleFlags(ctx: ExecContext, size: number, left: boolean, count: number, lo: number,
  hi: number, cf: number): void {
  const top = size === 8 ? hi >>> 30 : (lo >>> (size * 8 - 2)) & 3;
  let of = left ? (top >> 1) ^ cf : (top >> 1) ^ (top & 1);
  if (left && size === 2 && count >= 16) of = cf; // 16-bit SHLD by 16 or more (0 above 16)
  recordSzp(ctx, size, lo, hi, (cf ? CF : 0) | (of ? OF : 0) | AF);
}

/** A shift/rotate by a masked count of 0 still writes a 32-bit register (zero-extending it). */
export function rotateCountZeroWritesReg(size: number): boolean {
  return size === 4;
}

/**
 * BSF/BSR: ZF = source is zero; AMD clears CF OF SF AF and sets PF from the bit index
 * (from 0 when the source is zero).
 */
export function bitScanFlags(ctx: ExecContext, zero: boolean, index: number): void {
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | (zero ? ZF | PF : PARITY[index]);
}

/**
 * BSF/BSR with a zero source leave the destination unchanged, all 64 bits of it even for a
 * 32-bit operand (AMD documents this).
 */
export const BIT_SCAN_ZERO_KEEPS_DEST = true;

/** BT/BTS/BTR/BTC: CF = the bit; OF SF AF PF unchanged. */
export function bitTestFlags(ctx: ExecContext, bit: number): void {
  writeCfOf(ctx, CF, bit ? CF : 0);
}

/** TZCNT/LZCNT: CF = source was zero, ZF = result is zero; AMD clears SF AF PF, keeps OF. */
export function countFlags(ctx: ExecContext, cf: boolean, zf: boolean): void {
  ctx.flags = (ctx.flags & ~(CF | ZF | SF | AF | PF)) | (cf ? CF : 0) | (zf ? ZF : 0);
}

/** CMOVcc with a false condition still writes (zero-extends) a 32-bit destination register. */
export function cmovFalseWritesReg(): boolean {
  return true;
}

/**
 * CMPXCHG r32, r32 whose comparison fails: only EAX is written (zero-extended); the destination
 * register keeps its upper half (AMD; a memory destination is always written back).
 */
export function cmpxchgFailWritesDest(_size: number): boolean {
  return false;
}

/** DAA/DAS: OF (undefined) is set when AL went positive -> negative (DAA) or back (DAS), as on AMD. */
export function decimalAdjustOf(das: boolean, oldAl: number, al: number): number {
  return (das ? oldAl & ~al : ~oldAl & al) & 0x80 ? OF : 0;
}

/**
 * AAA/AAS: SF ZF PF OF (undefined) are those of the 16-bit ADD/SUB of AX and the adjustment
 * (0x106 or 0) before AL is masked, as AMD does. a: AX before, b: the adjustment, r: the sum.
 */
export function asciiAdjustFlags(aas: boolean, a: number, b: number, r: number): number {
  const ov = aas ? (a ^ b) & (a ^ r) : ~(a ^ b) & (a ^ r);
  return szp(r, 0, 2) | (ov & 0x8000 ? OF : 0);
}
