/**
 * Operand access for handlers: the ModRM r/m operand (register or memory), the ModRM reg
 * operand, and immediates. Readers return lo and leave hi in `half.hi` (see regs.ts).
 *
 * Read-modify-write handlers compute the address once (rmAddress) and pass it to rmRead and
 * rmWrite, so the memory access happens exactly once each way, before any register commit.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault } from './context.js';
import { effectiveAddress } from './address.js';
import { half, readGpr, writeGpr } from './regs.js';

/** The effective address of the r/m operand, or 0 for a register operand. */
export function rmAddress(ctx: ExecContext, insn: Instruction): number {
  return insn.mod === 3 ? 0 : effectiveAddress(ctx, insn);
}

/** Reads memory at seg:addr of size (1/2/4/8); hi in half.hi. */
export function memRead(ctx: ExecContext, seg: number, addr: number, size: number): number {
  const v = ctx.read(seg, addr, size as 1 | 2 | 4 | 8);
  half.hi = size === 8 ? ctx.memHi : 0;
  return v;
}

export function memWrite(ctx: ExecContext, seg: number, addr: number, size: number, lo: number, hi: number): void {
  ctx.write(seg, addr, size as 1 | 2 | 4 | 8, lo, hi);
}

export function rmRead(ctx: ExecContext, insn: Instruction, size: number, addr: number): number {
  if (insn.mod === 3) return readGpr(ctx, insn.rm, size, insn.rex);
  return memRead(ctx, insn.mem!.seg, addr, size);
}

export function rmWrite(ctx: ExecContext, insn: Instruction, size: number, addr: number, lo: number, hi: number): void {
  if (insn.mod === 3) writeGpr(ctx, insn.rm, size, insn.rex, lo, hi);
  else ctx.write(insn.mem!.seg, addr, size as 1 | 2 | 4 | 8, lo, hi);
}

/** The ModRM.reg register operand. */
export function regRead(ctx: ExecContext, insn: Instruction, size: number): number {
  return readGpr(ctx, insn.reg, size, insn.rex);
}

export function regWrite(ctx: ExecContext, insn: Instruction, size: number, lo: number, hi: number): void {
  writeGpr(ctx, insn.reg, size, insn.rex, lo, hi);
}

/** The immediate at operand size: zero-extended for 1/2, int32 for 4; hi in half.hi for 8. */
export function immediate(insn: Instruction, size: number): number {
  half.hi = size === 8 ? insn.immHi : 0;
  return size === 1 ? insn.imm & 0xff : size === 2 ? insn.imm & 0xffff : insn.imm;
}

/** Instructions that need a memory operand (LEA, CMPXCHG8B, ...) raise #UD on a register form. */
export function requireMemory(insn: Instruction): void {
  if (insn.mod === 3 || insn.mem === null) throw new X86Fault(6, undefined, `${insn.mnemonic} needs a memory operand`);
}

/**
 * The segment of an implicit DS-relative operand (string source, XLAT): the override if any,
 * except that in 64-bit mode only FS and GS overrides mean anything.
 */
export function dataSegment(ctx: ExecContext, insn: Instruction): number {
  const o = insn.segOverride;
  return o >= 0 && (ctx.mode !== 64 || o >= 4) ? o : 3;
}
