/**
 * Near control transfer: Jcc (70-7F, 0F 80-8F), JMP (E9 EB, FF /4), CALL (E8, FF /2), RET (C3,
 * C2 imm16), LOOP/LOOPE/LOOPNE (E2 E1 E0), JCXZ/JECXZ/JRCXZ (E3). Far forms are the runner's.
 *
 * Branch operand size: the instruction's in 16/32-bit code; 64 in 64-bit mode (16 with an
 * operand-size prefix when the decoder reports opSize 2, as AMD does). A non-canonical target
 * in 64-bit mode raises #GP(0) on the branch, with nothing changed.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault, ZF as ZF_ } from './context.js';
import { advance, computeNextRip, nextRipOut } from './address.js';
import { conditionOf } from './lazy-flags.js';
import { rmAddress, rmRead } from './operands.js';
import { half, setRip } from './regs.js';
import { pop, push } from './stack.js';
import { on, range } from './table.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const ZF = ZF_;

const TWO32 = 4294967296;

export function branchSize(ctx: ExecContext, insn: Instruction): number {
  if (ctx.mode === 64) return insn.opSize === 2 ? 2 : 8;
  return insn.opSize === 2 ? 2 : 4;
}

/** Target = next RIP + insn.imm, truncated to size; result in targetOut. */
const targetOut = { lo: 0, hi: 0 };
function relativeTarget(ctx: ExecContext, insn: Instruction, size: number): void {
  computeNextRip(ctx, insn);
  const l = (nextRipOut.lo >>> 0) + insn.imm;
  if (size === 8) {
    const carry = Math.floor(l / TWO32);
    targetOut.lo = l | 0;
    // l is nextRip.lo plus the signed imm: its floor carry (-1, 0, 1) already folds in imm's sign.
    targetOut.hi = (nextRipOut.hi + carry) | 0;
  } else {
    targetOut.lo = size === 2 ? l & 0xffff : l | 0;
    targetOut.hi = 0;
  }
}

/**
 * Whether hi is the high half of a canonical address (48-bit, or 57-bit with LA57). One return:
 * compiled blocks put this body in place of a call (helper-inline.ts).
 */
export function canonicalHigh(la57: boolean | undefined, hi: number): boolean {
  const top = la57 ? hi >> 24 : hi >> 15;
  return top === 0 || top === -1;
}

/** Truncates (lo, hi) to the branch size (into targetOut) and checks it is canonical in 64-bit mode. */
export function checkedTarget(ctx: ExecContext, lo: number, hi: number, size: number): void {
  if (size === 8) {
    if (!canonicalHigh(ctx.la57, hi)) {
      throw new X86Fault(13, 0, `near branch to non-canonical ${((hi >>> 0) * TWO32 + (lo >>> 0)).toString(16)}`);
    }
    targetOut.lo = lo; targetOut.hi = hi;
  } else {
    targetOut.lo = size === 2 ? lo & 0xffff : lo;
    targetOut.hi = 0;
  }
}

function jumpRelative(ctx: ExecContext, insn: Instruction): void {
  const size = branchSize(ctx, insn);
  relativeTarget(ctx, insn, size);
  checkedTarget(ctx, targetOut.lo, targetOut.hi, size);
  setRip(ctx, targetOut.lo, targetOut.hi);
}

/** 70-7F and 0F 80-8F. */
function jcc(ctx: ExecContext, insn: Instruction): boolean {
  if (conditionOf(ctx, insn.opcode & 15)) jumpRelative(ctx, insn);
  else advance(ctx, insn);
  return true;
}

/** E9 / EB JMP rel. */
function jmpRel(ctx: ExecContext, insn: Instruction): boolean {
  jumpRelative(ctx, insn);
  return true;
}

/** E8 CALL rel: push the next RIP, then jump. */
function callRel(ctx: ExecContext, insn: Instruction): boolean {
  const size = branchSize(ctx, insn);
  relativeTarget(ctx, insn, size);
  checkedTarget(ctx, targetOut.lo, targetOut.hi, size);
  const tlo = targetOut.lo, thi = targetOut.hi;
  computeNextRip(ctx, insn);
  push(ctx, size, nextRipOut.lo, nextRipOut.hi);
  setRip(ctx, tlo, thi);
  return true;
}

/** Reads and checks an FF /2 or /4 target into targetOut; returns the branch size. */
function indirectTarget(ctx: ExecContext, insn: Instruction): number {
  const size = branchSize(ctx, insn);
  const t = rmRead(ctx, insn, size, rmAddress(ctx, insn)), th = half.hi;
  checkedTarget(ctx, t, th, size);
  return size;
}

/** FF /2 CALL r/m (near indirect). */
export function callIndirect(ctx: ExecContext, insn: Instruction): boolean {
  const size = indirectTarget(ctx, insn);
  const tlo = targetOut.lo, thi = targetOut.hi;
  computeNextRip(ctx, insn);
  push(ctx, size, nextRipOut.lo, nextRipOut.hi);
  setRip(ctx, tlo, thi);
  return true;
}

/** FF /4 JMP r/m (near indirect). */
export function jmpIndirect(ctx: ExecContext, insn: Instruction): boolean {
  indirectTarget(ctx, insn);
  setRip(ctx, targetOut.lo, targetOut.hi);
  return true;
}

/** C3 RET, C2 RET imm16. The target is checked before rSP moves. */
function ret(ctx: ExecContext, insn: Instruction): boolean {
  const size = branchSize(ctx, insn);
  const saved0 = ctx.regs[8], saved1 = ctx.regs[9];
  const t = pop(ctx, size, insn.opcode === 0xc2 ? insn.imm & 0xffff : 0), th = half.hi;
  try {
    checkedTarget(ctx, t, th, size);
  } catch (e) {
    ctx.regs[8] = saved0; ctx.regs[9] = saved1;
    throw e;
  }
  setRip(ctx, targetOut.lo, targetOut.hi);
  return true;
}

/** Whether rCX (CX, ECX or RCX by the address size) is zero. */
export function counterIsZero(ctx: ExecContext, addrSize: number): boolean {
  if (addrSize === 8) return (ctx.regs[2] | ctx.regs[3]) === 0;
  return (addrSize === 4 ? ctx.regs[2] : ctx.regs[2] & 0xffff) === 0;
}

/** Decrements rCX at the address size (16-bit: CX only; 32-bit: zero-extends). */
export function decrementCounter(ctx: ExecContext, addrSize: number): void {
  const r = ctx.regs;
  if (addrSize === 8) {
    if (r[2] === 0) r[3] = (r[3] - 1) | 0;
    r[2] = (r[2] - 1) | 0;
  } else if (addrSize === 4) {
    r[2] = (r[2] - 1) | 0;
    r[3] = 0;
  } else {
    r[2] = (r[2] & ~0xffff) | ((r[2] - 1) & 0xffff);
  }
}

/** E0 LOOPNE, E1 LOOPE, E2 LOOP: decrement rCX, branch while non-zero (and ZF condition). */
function loop(ctx: ExecContext, insn: Instruction): boolean {
  const c2 = ctx.regs[2], c3 = ctx.regs[3];
  decrementCounter(ctx, insn.addrSize);
  let take = !counterIsZero(ctx, insn.addrSize);
  if (insn.opcode === 0xe0) take = take && (ctx.flags & ZF) === 0;
  else if (insn.opcode === 0xe1) take = take && (ctx.flags & ZF) !== 0;
  if (take) {
    try {
      jumpRelative(ctx, insn);
    } catch (e) {
      ctx.regs[2] = c2; ctx.regs[3] = c3;
      throw e;
    }
  } else {
    advance(ctx, insn);
  }
  return true;
}

/** E3 JCXZ / JECXZ / JRCXZ (counter width = address size). */
function jcxz(ctx: ExecContext, insn: Instruction): boolean {
  if (counterIsZero(ctx, insn.addrSize)) jumpRelative(ctx, insn);
  else advance(ctx, insn);
  return true;
}

on(0, range(0x70, 0x7f), jcc);
on(1, range(0x80, 0x8f), jcc);
on(0, [0xe9, 0xeb], jmpRel);
on(0, 0xe8, callRel);
on(0, [0xc2, 0xc3], ret);
on(0, [0xe0, 0xe1, 0xe2], loop);
on(0, 0xe3, jcxz);
