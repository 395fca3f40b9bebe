/**
 * Stack instructions: PUSH/POP r (50-5F), PUSH imm (68, 6A), POP r/m (8F /0), PUSH r/m (FF /6),
 * PUSHF/POPF (9C/9D), PUSHA/POPA (60/61, outside 64-bit mode), ENTER (C8), LEAVE (C9).
 * Segment-register pushes and pops need descriptor loads: they are the runner's.
 *
 * PUSHF/POPF policy: in virtual-8086 mode with IOPL < 3 they fault or use VME, so they are
 * left to the runner (false). POPF needs ctx.cpl to know whether IF and IOPL may change;
 * without it POPF is left to the runner. RF and VM are never pushed; POPF never changes VM,
 * VIP, VIF, and clears RF.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { IF } from './context.js';
import { advance, effectiveAddress } from './address.js';
import { opcodeReg } from './ops-move.js';
import { immediate, rmAddress, rmRead } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { peek, pop, push, setStackPointer, spOut, stackOperandSize, stackPointerPlus } from './stack.js';
import { on, range } from './table.js';

const VM = 1 << 17, RF = 1 << 16, IOPL = 3 << 12, NT = 1 << 14, AC = 1 << 18, ID = 1 << 21;
/** Flags POPF may change at any privilege: CF PF AF ZF SF TF DF OF NT AC ID (+ bit 1 fixed). */
const POPF_ALWAYS = 0x0fd5 & ~IF | NT | AC | ID;

/** 50-57 PUSH r. */
function pushReg(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const v = readGpr(ctx, opcodeReg(insn), size, 0), vh = half.hi;
  push(ctx, size, v, vh);
  advance(ctx, insn);
  return true;
}

/** 58-5F POP r (POP rSP loads the popped value, not the incremented pointer). */
function popReg(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const v = pop(ctx, size), vh = half.hi;
  writeGpr(ctx, opcodeReg(insn), size, 0, v, vh);
  advance(ctx, insn);
  return true;
}

/** 68 PUSH imm16/32 (sign-extended to 64), 6A PUSH imm8 (sign-extended). */
function pushImm(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const v = size === 8 ? insn.imm : immediate(insn, size);
  push(ctx, size, v, size === 8 ? (insn.imm < 0 ? -1 : 0) : 0);
  advance(ctx, insn);
  return true;
}

/** FF /6 PUSH r/m. */
export function pushRm(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const v = rmRead(ctx, insn, size, rmAddress(ctx, insn)), vh = half.hi;
  push(ctx, size, v, vh);
  advance(ctx, insn);
  return true;
}

/** 8F /0 POP r/m: a memory destination's address is computed with rSP already incremented. */
function popRm(ctx: ExecContext, insn: Instruction): boolean {
  if ((insn.reg & 7) !== 0) return false;
  const size = stackOperandSize(ctx, insn);
  const oldLo = ctx.regs[8], oldHi = ctx.regs[9];
  const v = pop(ctx, size), vh = half.hi;
  if (insn.mod === 3) {
    writeGpr(ctx, insn.rm, size, insn.rex, v, vh);
  } else {
    try {
      ctx.write(insn.mem!.seg, effectiveAddress(ctx, insn), size as 1 | 2 | 4 | 8, v, vh);
    } catch (e) {
      ctx.regs[8] = oldLo; ctx.regs[9] = oldHi;
      throw e;
    }
  }
  advance(ctx, insn);
  return true;
}

function vm86NeedsRunner(ctx: ExecContext): boolean {
  return (ctx.flags & VM) !== 0 && (ctx.flags & IOPL) !== IOPL;
}

/** 9C PUSHF/PUSHFD/PUSHFQ. */
function pushf(ctx: ExecContext, insn: Instruction): boolean {
  if (vm86NeedsRunner(ctx)) return false;
  const size = stackOperandSize(ctx, insn);
  push(ctx, size, ctx.flags & ~(VM | RF), 0);
  advance(ctx, insn);
  return true;
}

/** 9D POPF/POPFD/POPFQ. */
function popf(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.cpl === undefined || vm86NeedsRunner(ctx)) return false;
  const size = stackOperandSize(ctx, insn);
  const v = pop(ctx, size);
  const iopl = (ctx.flags & IOPL) >> 12;
  let mask = POPF_ALWAYS;
  if ((ctx.flags & VM) === 0) {
    if (ctx.cpl <= iopl) mask |= IF;
    if (ctx.cpl === 0) mask |= IOPL;
  } else {
    mask |= IF; // VM86 with IOPL 3 (others went to the runner): IF yes, IOPL no.
  }
  if (size === 2) mask &= 0xffff;
  ctx.flags = (((ctx.flags & ~mask) | (v & mask)) & ~RF) | 2;
  advance(ctx, insn);
  return true;
}

/** 60 PUSHA/PUSHAD: AX CX DX BX (original) SP BP SI DI. Writes all, then commits rSP. */
function pusha(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode === 64) return false;
  const size = insn.opSize;
  const sp = readGpr(ctx, 4, size, 0);
  for (let i = 0; i < 8; i++) {
    stackPointerPlus(ctx, -size * (i + 1));
    ctx.write(2, spOut.addr, size as 2 | 4, i === 4 ? sp : readGpr(ctx, i, size, 0), 0);
  }
  stackPointerPlus(ctx, -size * 8);
  setStackPointer(ctx, spOut.lo, spOut.hi);
  advance(ctx, insn);
  return true;
}

/** 61 POPA/POPAD: DI SI BP (SP skipped) BX DX CX AX. Reads all, then commits. */
function popa(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode === 64) return false;
  const size = insn.opSize;
  const vals: number[] = [];
  for (let i = 0; i < 8; i++) vals.push(peek(ctx, size, size * i));
  for (let i = 0; i < 8; i++) if (i !== 3) writeGpr(ctx, 7 - i, size, 0, vals[i], 0);
  stackPointerPlus(ctx, size * 8);
  setStackPointer(ctx, spOut.lo, spOut.hi);
  advance(ctx, insn);
  return true;
}

/** C9 LEAVE: rSP = rBP (stack size), then POP rBP. */
function leave(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const r = ctx.regs;
  const oldLo = r[8], oldHi = r[9];
  if (ctx.stackSize === 8) { r[8] = r[10]; r[9] = r[11]; }
  else if (ctx.stackSize === 4) { r[8] = r[10]; r[9] = 0; }
  else r[8] = (r[8] & ~0xffff) | (r[10] & 0xffff);
  let v: number, vh: number;
  try {
    v = pop(ctx, size); vh = half.hi;
  } catch (e) {
    r[8] = oldLo; r[9] = oldHi;
    throw e;
  }
  writeGpr(ctx, 5, size, 0, v, vh);
  advance(ctx, insn);
  return true;
}

/**
 * C8 ENTER imm16, imm8: push rBP, copy (level - 1) frame pointers from the old frame, push the
 * new frame pointer, rBP = frame, rSP -= imm16. Every memory access happens before any commit.
 */
function enter(ctx: ExecContext, insn: Instruction): boolean {
  const size = stackOperandSize(ctx, insn);
  const level = insn.imm2 & 31, alloc = insn.imm & 0xffff;
  const r = ctx.regs;
  const saved = r.slice(8, 12);
  try {
    const bp = readGpr(ctx, 5, size, 0), bph = half.hi;
    push(ctx, size, bp, bph);
    const frameLo = r[8], frameHi = r[9];
    if (level > 0) {
      let bpLo = r[10], bpHi = r[11];
      for (let i = 1; i < level; i++) {
        // rBP -= size at the stack address size, then push [SS:rBP].
        const l = ctx.stackSize === 8 ? (bpLo >>> 0) - size : 0;
        if (ctx.stackSize === 8) { bpHi = (bpHi + Math.floor(l / 4294967296)) | 0; bpLo = l | 0; }
        else if (ctx.stackSize === 4) bpLo = (bpLo - size) | 0;
        else bpLo = (bpLo & ~0xffff) | ((bpLo - size) & 0xffff);
        const addr = ctx.stackSize === 8 ? bpHi * 4294967296 + (bpLo >>> 0)
          : ctx.stackSize === 4 ? bpLo >>> 0 : bpLo & 0xffff;
        const v = ctx.read(2, addr, size as 2 | 4 | 8), vh = size === 8 ? ctx.memHi : 0;
        push(ctx, size, v, vh);
      }
      push(ctx, size, frameLo, frameHi);
    }
    stackPointerPlus(ctx, -alloc);
    const nlo = spOut.lo, nhi = spOut.hi;
    // Hardware probes the new stack top: ENTER with an allocation reaching an unmapped page
    // faults (seen natively). Modelled as a one-byte read at SS:new rSP.
    if (alloc > 0) ctx.read(2, spOut.addr, 1);
    if (ctx.stackSize === 8) { r[10] = frameLo; r[11] = frameHi; }
    else if (ctx.stackSize === 4) { r[10] = frameLo; r[11] = 0; }
    else r[10] = (r[10] & ~0xffff) | (frameLo & 0xffff);
    setStackPointer(ctx, nlo, nhi);
  } catch (e) {
    r.set(saved, 8);
    throw e;
  }
  advance(ctx, insn);
  return true;
}

on(0, range(0x50, 0x57), pushReg);
on(0, range(0x58, 0x5f), popReg);
on(0, [0x68, 0x6a], pushImm);
on(0, 0x8f, popRm);
on(0, 0x9c, pushf);
on(0, 0x9d, popf);
on(0, 0x60, pusha);
on(0, 0x61, popa);
on(0, 0xc9, leave);
on(0, 0xc8, enter);
