/**
 * ALU instructions: the eight classic opcode rows (00-3F), group 1 (80-83), TEST (84/85, A8/A9),
 * group 3 TEST/NOT/NEG (F6/F7 /0-/3; MUL/DIV are in ops-muldiv), INC/DEC (40-4F outside 64-bit
 * mode, FE/FF /0 /1).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { advance } from './address.js';
import { alu, incDec, logicResult, neg, OP_CMP } from './alu.js';
import { commitRm } from './commit.js';
import { immediate, regRead, regWrite, rmAddress, rmRead } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { lockable, on, range } from './table.js';

/** op r/m, reg (forms 0/1) and op reg, r/m (forms 2/3) and op acc, imm (forms 4/5). */
function aluRow(ctx: ExecContext, insn: Instruction): boolean {
  const op = (insn.opcode >> 3) & 7, form = insn.opcode & 7, size = insn.opSize;
  if (form <= 1 && insn.mod === 3) {
    // Register destination: no address, no rollback (the hot case in compiled code).
    const b = readGpr(ctx, insn.reg, size, insn.rex), bh = half.hi;
    const a = readGpr(ctx, insn.rm, size, insn.rex), ah = half.hi;
    const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
    if (op !== OP_CMP) writeGpr(ctx, insn.rm, size, insn.rex, r, rh);
  } else if (form <= 1) {
    const addr = rmAddress(ctx, insn);
    const b = regRead(ctx, insn, size), bh = half.hi;
    const a = rmRead(ctx, insn, size, addr), ah = half.hi;
    const before = ctx.flags;
    const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
    if (op !== OP_CMP) commitRm(ctx, insn, size, addr, r, rh, before);
  } else if (form <= 3) {
    const b = rmRead(ctx, insn, size, rmAddress(ctx, insn)), bh = half.hi;
    const a = regRead(ctx, insn, size), ah = half.hi;
    const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
    if (op !== OP_CMP) regWrite(ctx, insn, size, r, rh);
  } else {
    const b = immediate(insn, size), bh = half.hi;
    const a = readGpr(ctx, 0, size, 0), ah = half.hi;
    const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
    if (op !== OP_CMP) writeGpr(ctx, 0, size, 0, r, rh);
  }
  advance(ctx, insn);
  return true;
}

/** Group 1: op r/m, imm (80, 81, 82 = 80 outside 64-bit mode, 83 = sign-extended imm8). */
function group1(ctx: ExecContext, insn: Instruction): boolean {
  const op = insn.reg & 7, size = insn.opSize;
  const b = immediate(insn, size), bh = half.hi;
  if (insn.mod === 3) {
    const a = readGpr(ctx, insn.rm, size, insn.rex), ah = half.hi;
    const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
    if (op !== OP_CMP) writeGpr(ctx, insn.rm, size, insn.rex, r, rh);
    advance(ctx, insn);
    return true;
  }
  const addr = rmAddress(ctx, insn);
  const a = rmRead(ctx, insn, size, addr), ah = half.hi;
  const before = ctx.flags;
  const r = alu(ctx, op, size, a, ah, b, bh), rh = half.hi;
  if (op !== OP_CMP) commitRm(ctx, insn, size, addr, r, rh, before);
  advance(ctx, insn);
  return true;
}

/** TEST r/m, reg. */
function testRmReg(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const b = regRead(ctx, insn, size), bh = half.hi;
  const a = rmRead(ctx, insn, size, rmAddress(ctx, insn)), ah = half.hi;
  logicResult(ctx, size, a & b, ah & bh);
  advance(ctx, insn);
  return true;
}

/** TEST AL/eAX, imm. */
function testAccImm(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const b = immediate(insn, size), bh = half.hi;
  const a = readGpr(ctx, 0, size, 0), ah = half.hi;
  logicResult(ctx, size, a & b, ah & bh);
  advance(ctx, insn);
  return true;
}

/** Group 3 /0 /1 TEST imm, /2 NOT, /3 NEG; /4-/7 (MUL IMUL DIV IDIV) go to mulDiv. */
export function group3Unary(ctx: ExecContext, insn: Instruction): boolean {
  const sub = insn.reg & 7, size = insn.opSize;
  const addr = rmAddress(ctx, insn);
  const a = rmRead(ctx, insn, size, addr), ah = half.hi;
  if (sub <= 1) {
    const b = immediate(insn, size), bh = half.hi;
    logicResult(ctx, size, a & b, ah & bh);
  } else if (sub === 2) {
    commitRm(ctx, insn, size, addr, ~a, ~ah, ctx.flags);
  } else {
    const before = ctx.flags;
    const r = neg(ctx, size, a, ah), rh = half.hi;
    commitRm(ctx, insn, size, addr, r, rh, before);
  }
  advance(ctx, insn);
  return true;
}

/** FE/FF /0 INC, /1 DEC on r/m. */
export function incDecRm(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const addr = rmAddress(ctx, insn);
  const a = rmRead(ctx, insn, size, addr), ah = half.hi;
  const before = ctx.flags;
  const r = incDec(ctx, size, a, ah, (insn.reg & 1) === 1), rh = half.hi;
  commitRm(ctx, insn, size, addr, r, rh, before);
  advance(ctx, insn);
  return true;
}

/** 40-47 INC r, 48-4F DEC r (16/32-bit modes only; REX prefixes in 64-bit mode). */
function incDecReg(ctx: ExecContext, insn: Instruction): boolean {
  const n = insn.opcode & 7, size = insn.opSize;
  const a = readGpr(ctx, n, size, 0), ah = half.hi;
  const r = incDec(ctx, size, a, ah, insn.opcode >= 0x48), rh = half.hi;
  writeGpr(ctx, n, size, 0, r, rh);
  advance(ctx, insn);
  return true;
}

const ROWS: number[] = [];
for (let row = 0; row < 8; row++) for (let form = 0; form < 6; form++) ROWS.push(row * 8 + form);
on(0, ROWS, aluRow);
lockable(0, ROWS.filter((op) => (op & 7) <= 1 && op >> 3 !== OP_CMP));
on(0, range(0x80, 0x83), group1);
lockable(0, range(0x80, 0x83), 0x7f);
on(0, [0x84, 0x85], testRmReg);
on(0, [0xa8, 0xa9], testAccImm);
on(0, range(0x40, 0x4f), incDecReg);
