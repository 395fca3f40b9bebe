/**
 * Committing a result to the r/m operand after flags were computed: a memory write may throw
 * (fault, MMIO exit), and then the instruction must leave no trace, flags included.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { writeGpr } from './regs.js';

export function commitRm(ctx: ExecContext, insn: Instruction, size: number, addr: number,
  lo: number, hi: number, flagsBefore: number): void {
  if (insn.mod === 3) {
    writeGpr(ctx, insn.rm, size, insn.rex, lo, hi);
    return;
  }
  commitMem(ctx, insn.mem!.seg, size, addr, lo, hi, flagsBefore);
}

/** commitRm's memory case, for callers that know the operand is memory and its segment. */
export function commitMem(ctx: ExecContext, seg: number, size: number, addr: number,
  lo: number, hi: number, flagsBefore: number): void {
  try {
    ctx.write(seg, addr, size as 1 | 2 | 4 | 8, lo, hi);
  } catch (e) {
    ctx.flags = flagsBefore;
    throw e;
  }
}
