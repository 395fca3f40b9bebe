/**
 * Group-1 operations (ADD OR ADC SBB AND SUB XOR CMP) on a register destination, one closure
 * literal per operation and operand size: each calls its alu.ts helper (add32, logic64...)
 * directly, so the engine inlines it and the call site never sees another operation (one
 * literal shared by all eight would make that call megamorphic). specialise.ts picks them.
 */
import type { Instruction } from '../instruction.js';
import { advanceBy } from './address.js';
import { add32, add64, logic32, logic64, sub32, sub64 } from './alu.js';
import type { Compiled } from './compile.js';
import { carry } from './lazy-flags.js';
import { half } from './regs.js';

/** op on register d (regs index) and register s at size 4 or 8. */
export function aluRegReg(op: number, size: 4 | 8, d: number, s: number, insn: Instruction): Compiled {
  return size === 4 ? aluReg32(op, d, s, insn) : aluReg64(op, d, s, insn);
}

/** op on register d (regs index) and the immediate (b, bh) at size 4 or 8. */
export function aluRegImm(op: number, size: 4 | 8, d: number, b: number, bh: number, insn: Instruction): Compiled {
  return size === 4 ? aluImm32(op, d, b, bh, insn) : aluImm64(op, d, b, bh, insn);
}

/** Group-1 operation op on register d (regs index) and register s, 32-bit. */
function aluReg32(op: number, d: number, s: number, insn: Instruction): Compiled {
  const len = insn.length;
  switch (op & 7) {
    case 0: return (ctx) => { const r = ctx.regs; r[d] = add32(ctx, r[d]!, r[s]!, 0); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 1: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! | r[s]!); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 2: return (ctx) => { const r = ctx.regs; r[d] = add32(ctx, r[d]!, r[s]!, carry(ctx)); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 3: return (ctx) => { const r = ctx.regs; r[d] = sub32(ctx, r[d]!, r[s]!, carry(ctx)); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 4: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! & r[s]!); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 5: return (ctx) => { const r = ctx.regs; r[d] = sub32(ctx, r[d]!, r[s]!, 0); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 6: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! ^ r[s]!); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 7: return (ctx) => { const r = ctx.regs; sub32(ctx, r[d]!, r[s]!, 0); advanceBy(ctx, len); return true; };
  }
  throw new RangeError(`group-1 operation ${op}`);
}

/** Group-1 operation op on register d (regs index) and register s, 64-bit. */
function aluReg64(op: number, d: number, s: number, insn: Instruction): Compiled {
  const len = insn.length;
  switch (op & 7) {
    case 0: return (ctx) => { const r = ctx.regs; const lo = add64(ctx, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!, 0); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 1: return (ctx) => { const r = ctx.regs; const lo = r[d]! | r[s]!, hi = r[d + 1]! | r[s + 1]!; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 2: return (ctx) => { const r = ctx.regs; const lo = add64(ctx, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!, carry(ctx)); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 3: return (ctx) => { const r = ctx.regs; const lo = sub64(ctx, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!, carry(ctx)); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 4: return (ctx) => { const r = ctx.regs; const lo = r[d]! & r[s]!, hi = r[d + 1]! & r[s + 1]!; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 5: return (ctx) => { const r = ctx.regs; const lo = sub64(ctx, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!, 0); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 6: return (ctx) => { const r = ctx.regs; const lo = r[d]! ^ r[s]!, hi = r[d + 1]! ^ r[s + 1]!; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 7: return (ctx) => { const r = ctx.regs; sub64(ctx, r[d]!, r[d + 1]!, r[s]!, r[s + 1]!, 0); advanceBy(ctx, len); return true; };
  }
  throw new RangeError(`group-1 operation ${op}`);
}

/** Group-1 operation op on register d (regs index) and the immediate (b, bh), 32-bit. */
function aluImm32(op: number, d: number, b: number, _bh: number, insn: Instruction): Compiled {
  const len = insn.length;
  switch (op & 7) {
    case 0: return (ctx) => { const r = ctx.regs; r[d] = add32(ctx, r[d]!, b, 0); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 1: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! | b); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 2: return (ctx) => { const r = ctx.regs; r[d] = add32(ctx, r[d]!, b, carry(ctx)); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 3: return (ctx) => { const r = ctx.regs; r[d] = sub32(ctx, r[d]!, b, carry(ctx)); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 4: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! & b); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 5: return (ctx) => { const r = ctx.regs; r[d] = sub32(ctx, r[d]!, b, 0); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 6: return (ctx) => { const r = ctx.regs; r[d] = logic32(ctx, r[d]! ^ b); r[d + 1] = 0; advanceBy(ctx, len); return true; };
    case 7: return (ctx) => { const r = ctx.regs; sub32(ctx, r[d]!, b, 0); advanceBy(ctx, len); return true; };
  }
  throw new RangeError(`group-1 operation ${op}`);
}

/** Group-1 operation op on register d (regs index) and the immediate (b, bh), 64-bit. */
function aluImm64(op: number, d: number, b: number, bh: number, insn: Instruction): Compiled {
  const len = insn.length;
  switch (op & 7) {
    case 0: return (ctx) => { const r = ctx.regs; const lo = add64(ctx, r[d]!, r[d + 1]!, b, bh, 0); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 1: return (ctx) => { const r = ctx.regs; const lo = r[d]! | b, hi = r[d + 1]! | bh; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 2: return (ctx) => { const r = ctx.regs; const lo = add64(ctx, r[d]!, r[d + 1]!, b, bh, carry(ctx)); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 3: return (ctx) => { const r = ctx.regs; const lo = sub64(ctx, r[d]!, r[d + 1]!, b, bh, carry(ctx)); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 4: return (ctx) => { const r = ctx.regs; const lo = r[d]! & b, hi = r[d + 1]! & bh; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 5: return (ctx) => { const r = ctx.regs; const lo = sub64(ctx, r[d]!, r[d + 1]!, b, bh, 0); r[d + 1] = half.hi; r[d] = lo; advanceBy(ctx, len); return true; };
    case 6: return (ctx) => { const r = ctx.regs; const lo = r[d]! ^ b, hi = r[d + 1]! ^ bh; logic64(ctx, lo, hi); r[d] = lo; r[d + 1] = hi; advanceBy(ctx, len); return true; };
    case 7: return (ctx) => { const r = ctx.regs; sub64(ctx, r[d]!, r[d + 1]!, b, bh, 0); advanceBy(ctx, len); return true; };
  }
  throw new RangeError(`group-1 operation ${op}`);
}

