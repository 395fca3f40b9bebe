/**
 * Specialised forms for the hottest instruction shapes (see compile.ts): the operand kinds,
 * register indices, sizes and immediates are resolved at decode time, and the function calls
 * the same semantic code as the table handler (alu.ts for results and flags, address.ts for
 * effective addresses and RIP, commit.ts for rollback), in the same order, so it does exactly
 * what execute() does. The shapes: 32/64-bit operands in registers or memory for the ALU rows,
 * group 1, INC/DEC, MOV, LEA, TEST of registers, byte CMP/TEST of registers, Jcc, and in 64-bit code JMP rel, CALL rel and
 * PUSH/POP of a register. undefined: no specialised form (the handler is used).
 *
 * Each shape is its own function literal, so the engine keeps its call sites monomorphic.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { RIP_LO as RIP_LO_ } from './context.js';
import { addressOf, addressPairOf, advanceBy, eaOut } from './address.js';
import { ALU_OPS, incDec32, incDec64, logic32, logic64, logic8, OP_CMP, sub8 } from './alu.js';
import { commitMem } from './commit.js';
import { aluRegImm, aluRegReg } from './specialise-alu.js';
import { carry, conditionOf } from './lazy-flags.js';
import { product } from './ops-muldiv.js';
import { shift64, shiftOut, shiftSmall } from './ops-shift.js';
import { mulFlags, shiftFlags } from './undefined-flags.js';
import { wide } from './wide.js';
import { byteRegister, half } from './regs.js';
import { HANDLERS, MAP_SIZE } from './table.js';
import { call64, pop64, push64, ret64, stepRip64 } from './fast64.js';
import { advanceOnly, movExtend, movsxd } from './specialise-move.js';
import { onlyAdvances } from './ops-move.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const RIP_LO = RIP_LO_;

type Compiled = (ctx: ExecContext) => boolean;

export function specialise(insn: Instruction): Compiled | undefined {
  if (onlyAdvances(insn)) return advanceOnly(insn);
  const size = insn.opSize;
  if (size === 1 && insn.map === 0) return byteCompare(insn);
  if (size !== 4 && size !== 8) return undefined;
  if (insn.map === 0) {
    const op = insn.opcode;
    if (op < 0x40 && (op & 7) <= 5) return aluRow(insn, (op >> 3) & 7, op & 7, size);
    if (op >= 0x80 && op <= 0x83 && op !== 0x82) return group1(insn, insn.reg & 7, size);
    if (op >= 0x40 && op <= 0x4f) return incDecReg(insn, op & 7, op >= 0x48, size);
    if (op === 0xff && (insn.reg & 7) < 2) return insn.mod === 3 ? incDecReg(insn, insn.rm, (insn.reg & 1) === 1, size) : undefined;
    if (op === 0x89 || op === 0x8b) return movRmReg(insn, op === 0x89, size);
    if (op >= 0xb8 && op <= 0xbf) return movRegImm(insn, (op & 7) | ((insn.rex & 1) << 3), size);
    if (op === 0xc7 && (insn.reg & 7) === 0) return movRmImm(insn, size);
    if (op === 0x8d) return lea(insn, size);
    if (op >= 0x70 && op <= 0x7f) return jcc(insn);
    if (op === 0xe9 || op === 0xeb) return jmpRel64(insn);
    if (op === 0xe8) return callRel64(insn);
    if (op === 0xc3) return retNear64(insn);
    if (op === 0x63) return movsxd(insn, size);
    if (op === 0x85 && insn.mod === 3) return testRegReg(insn, size);
    if (op >= 0x50 && op <= 0x5f && insn.mode === 64 && !insn.opsizePrefix) return stackReg64(insn, ((op & 7) | ((insn.rex & 1) << 3)) << 1, op >= 0x58);
    if (op === 0xc1 || op === 0xd1) return shiftImmReg(insn, insn.reg & 7, size, op === 0xd1 ? 1 : insn.imm & 0xff);
    if (op === 0x69 || op === 0x6b) return imulReg(insn, size, insn.imm, size === 8 ? insn.immHi : 0, -1);
  } else if (insn.map === 1) {
    if (insn.opcode >= 0x80 && insn.opcode <= 0x8f) return jcc(insn);
    if (insn.opcode === 0xaf) return imulReg(insn, size, 0, 0, insn.reg << 1);
    if ((insn.opcode & 0xf6) === 0xb6) return movExtend(insn, size);
  }
  return undefined;
}

/** Memory operand fields, resolved once (insn.mem is non-null for mod != 3). */
function seg(insn: Instruction): number {
  return insn.mem!.seg;
}

/** ADD OR ADC SBB AND SUB XOR CMP: forms 0/1 r/m,reg; 2/3 reg,r/m; 4/5 acc,imm (aluRow). */
function aluRow(insn: Instruction, op: number, form: number, size: 4 | 8): Compiled | undefined {
  const len = insn.length;
  const write = op !== OP_CMP, f = ALU_OPS[op]!;
  if (form === 5) return accImm(insn, op, size);
  if (form !== 1 && form !== 3) return undefined;
  const reg = insn.reg << 1;
  if (insn.mod === 3) {
    // a = destination, b = source, as the handler orders them.
    const d = form === 1 ? insn.rm << 1 : reg, s = form === 1 ? reg : insn.rm << 1;
    return aluRegReg(op, size, d, s, insn);
  }
  const sg = seg(insn);
  const m = insn.mem!, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  if (form === 3) {
    return (ctx) => {
      const b = ctx.read(sg, addressOf(ctx, ab, mb, mx, ms, md, len), size);
      const bh = size === 8 ? ctx.memHi : 0;
      const r = ctx.regs;
      const v = f(ctx, size, r[reg]!, size === 8 ? r[reg + 1]! : 0, b, bh), vh = half.hi;
      if (write) { r[reg] = v; r[reg + 1] = vh; }
      advanceBy(ctx, len);
      return true;
    };
  }
  return aluMemDest(insn, op, size, reg, 0, 0);
}

/**
 * op [mem], src: src is register index srcReg (regs index), or the immediate (b, bh) when
 * srcReg < 0. Order as the handlers: address, source, memory read, flags, commit (rollback).
 */
function aluMemDest(insn: Instruction, op: number, size: 4 | 8, srcReg: number, imm: number, immHi: number): Compiled {
  const len = insn.length;
  const write = op !== OP_CMP, sg = seg(insn), f = ALU_OPS[op]!;
  const m = insn.mem!, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  return (ctx) => {
    const addr = addressOf(ctx, ab, mb, mx, ms, md, len);
    const r = ctx.regs;
    const b = srcReg < 0 ? imm : r[srcReg]!, bh = size !== 8 ? 0 : srcReg < 0 ? immHi : r[srcReg + 1]!;
    const a = ctx.read(sg, addr, size);
    const ah = size === 8 ? ctx.memHi : 0;
    const before = ctx.flags;
    const v = f(ctx, size, a, ah, b, bh), vh = half.hi;
    if (write) commitMem(ctx, sg, size, addr, v, vh, before);
    advanceBy(ctx, len);
    return true;
  };
}

/** op eAX/rAX, imm (forms 4/5). */
function accImm(insn: Instruction, op: number, size: 4 | 8): Compiled {
  return aluRegImm(op, size, 0, insn.imm, size === 8 ? insn.immHi : 0, insn);
}

/** Group 1: op r/m, imm. */
function group1(insn: Instruction, op: number, size: 4 | 8): Compiled {
  const b = insn.imm, bh = size === 8 ? insn.immHi : 0;
  if (insn.mod === 3) return aluRegImm(op, size, insn.rm << 1, b, bh, insn);
  return aluMemDest(insn, op, size, -1, b, bh);
}

/** INC/DEC on a register (40-4F outside 64-bit mode; FF /0 /1 register forms). */
function incDecReg(insn: Instruction, n: number, dec: boolean, size: 4 | 8): Compiled {
  const len = insn.length;
  const d = n << 1;
  if (size === 4) {
    return (ctx) => {
      const r = ctx.regs;
      r[d] = incDec32(ctx, r[d]!, dec); r[d + 1] = 0;
      advanceBy(ctx, len);
      return true;
    };
  }
  return (ctx) => {
    const r = ctx.regs;
    const v = incDec64(ctx, r[d]!, r[d + 1]!, dec);
    r[d + 1] = half.hi; r[d] = v;
    advanceBy(ctx, len);
    return true;
  };
}

/** 89 MOV r/m, reg; 8B MOV reg, r/m. */
function movRmReg(insn: Instruction, toRm: boolean, size: 4 | 8): Compiled {
  const len = insn.length;
  const reg = insn.reg << 1;
  if (insn.mod === 3) {
    const d = toRm ? insn.rm << 1 : reg, s = toRm ? reg : insn.rm << 1;
    return (ctx) => {
      const r = ctx.regs;
      r[d] = r[s]!; r[d + 1] = size === 8 ? r[s + 1]! : 0;
      advanceBy(ctx, len);
      return true;
    };
  }
  const sg = seg(insn);
  const m = insn.mem!, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  if (toRm) {
    return (ctx) => {
      const r = ctx.regs;
      ctx.write(sg, addressOf(ctx, ab, mb, mx, ms, md, len), size, r[reg]!, size === 8 ? r[reg + 1]! : 0);
      advanceBy(ctx, len);
      return true;
    };
  }
  return (ctx) => {
    const v = ctx.read(sg, addressOf(ctx, ab, mb, mx, ms, md, len), size);
    const r = ctx.regs;
    r[reg + 1] = size === 8 ? ctx.memHi : 0;
    r[reg] = v;
    advanceBy(ctx, len);
    return true;
  };
}

/** B8+r MOV r, imm32/imm64. */
function movRegImm(insn: Instruction, n: number, size: 4 | 8): Compiled {
  const len = insn.length;
  const d = n << 1, v = insn.imm, vh = size === 8 ? insn.immHi : 0;
  return (ctx) => {
    const r = ctx.regs;
    r[d] = v; r[d + 1] = vh;
    advanceBy(ctx, len);
    return true;
  };
}

/** C7 /0 MOV r/m, imm32 (sign-extended to 64). */
function movRmImm(insn: Instruction, size: 4 | 8): Compiled {
  const len = insn.length;
  const v = insn.imm, vh = size === 8 ? insn.immHi : 0;
  if (insn.mod === 3) return movRegImm(insn, insn.rm, size);
  const sg = seg(insn);
  const m = insn.mem!, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  return (ctx) => {
    ctx.write(sg, addressOf(ctx, ab, mb, mx, ms, md, len), size, v, vh);
    advanceBy(ctx, len);
    return true;
  };
}

/** 8D LEA (register forms are #UD: left to the handler). */
function lea(insn: Instruction, size: 4 | 8): Compiled | undefined {
  const len = insn.length;
  if (insn.mod === 3 || insn.mem === null) return undefined;
  const d = insn.reg << 1;
  const m = insn.mem!, ab = insn.addrSize, mb = m.base, mx = m.index, ms = m.scale, md = m.disp;
  if (ab !== 8) {
    return (ctx) => {
      const r = ctx.regs;
      r[d] = addressOf(ctx, ab, mb, mx, ms, md, len) | 0; r[d + 1] = 0;
      advanceBy(ctx, len);
      return true;
    };
  }
  return (ctx) => { lea64(ctx, size, d, mb, mx, ms, md, len); advanceBy(ctx, len); return true; };
}

/** LEA with a 64-bit address: the exact address (it need not be canonical) into register d. */
export function lea64(ctx: ExecContext, size: 4 | 8, d: number, base: number, index: number, scale: number, disp: number, len: number): void {
  addressPairOf(ctx, 8, base, index, scale, disp, len);
  const r = ctx.regs;
  r[d] = eaOut.lo; r[d + 1] = size === 8 ? eaOut.hi : 0;
}

/**
 * Jcc in 32-bit code with a 32-bit operand size: the target is EIP + length + rel, wrapped to
 * 32 bits (ops-control's relativeTarget for size 4). Other modes use the handler.
 */
function jcc(insn: Instruction): Compiled | undefined {
  const len = insn.length;
  if (insn.mode === 64) return jcc64(insn);
  if (insn.mode !== 32 || insn.opSize !== 4) return undefined;
  const cc = insn.opcode & 15, delta = (insn.length + insn.imm) | 0;
  const handler = HANDLERS[insn.map * MAP_SIZE + insn.opcode]!;
  return (ctx) => {
    if (ctx.mode !== 32) return handler(ctx, insn);
    if (conditionOf(ctx, cc)) {
      const r = ctx.regs;
      r[RIP_LO] = (r[RIP_LO]! + delta) | 0; r[RIP_LO + 1] = 0;
    } else {
      advanceBy(ctx, len);
    }
    return true;
  };
}

/** 64-bit Jcc: RIP moves by the taken or fall-through offset (fast64 stepRip64), else the handler decides it whole. */
function jcc64(insn: Instruction): Compiled | undefined {
  if (insn.opSize !== 8) return undefined;
  const cc = insn.opcode & 15, taken = insn.length + (insn.imm | 0), next = insn.length;
  const handler = HANDLERS[insn.map * MAP_SIZE + insn.opcode]!;
  return (ctx) => stepRip64(ctx, conditionOf(ctx, cc) ? taken : next) || handler(ctx, insn);
}

/** 64-bit JMP rel8/rel32, as jcc64 always taken. */
function jmpRel64(insn: Instruction): Compiled | undefined {
  if (insn.mode !== 64 || insn.opSize !== 8) return undefined;
  const taken = insn.length + (insn.imm | 0);
  const handler = HANDLERS[insn.opcode]!;
  return (ctx) => stepRip64(ctx, taken) || handler(ctx, insn);
}

/** 64-bit CALL rel32 (fast64 call64), else the handler. */
function callRel64(insn: Instruction): Compiled | undefined {
  if (insn.mode !== 64 || insn.opSize !== 8) return undefined;
  const taken = insn.length + (insn.imm | 0), next = insn.length;
  const handler = HANDLERS[insn.opcode]!;
  return (ctx) => call64(ctx, taken, next) || handler(ctx, insn);
}

/** 64-bit RET (C3) (fast64 ret64), else the handler. */
function retNear64(insn: Instruction): Compiled | undefined {
  if (insn.mode !== 64 || insn.opSize !== 8) return undefined;
  const handler = HANDLERS[insn.opcode]!;
  return (ctx) => ret64(ctx) || handler(ctx, insn);
}

/** 64-bit PUSH r64 / POP r64 (register d, a regs index; fast64 push64/pop64), else the handler. */
function stackReg64(insn: Instruction, d: number, pop: boolean): Compiled {
  const len = insn.length;
  const handler = HANDLERS[insn.opcode]!;
  if (!pop) return (ctx) => push64(ctx, ctx.regs[d]!, ctx.regs[d + 1]!) ? (advanceBy(ctx, len), true) : handler(ctx, insn);
  return (ctx) => pop64(ctx, d) ? (advanceBy(ctx, len), true) : handler(ctx, insn);
}

/** 85 TEST r/m, reg with both operands in registers: the logic record of their AND. */
function testRegReg(insn: Instruction, size: 4 | 8): Compiled {
  const len = insn.length;
  const a = insn.rm << 1, b = insn.reg << 1;
  if (size === 4) return (ctx) => { const r = ctx.regs; logic32(ctx, r[a]! & r[b]!); advanceBy(ctx, len); return true; };
  return (ctx) => { const r = ctx.regs; logic64(ctx, r[a]! & r[b]!, r[a + 1]! & r[b + 1]!); advanceBy(ctx, len); return true; };
}

/**
 * Byte CMP and TEST of registers and immediates (they write only the flags): 38/3A/3C CMP,
 * 80 /7 CMP, 84 and A8 TEST, F6 /0-1 TEST.
 */
function byteCompare(insn: Instruction): Compiled | undefined {
  const len = insn.length;
  const op = insn.opcode, imm = insn.imm & 0xff, regForm = insn.hasModrm && insn.mod === 3;
  if (op === 0x3c) return (ctx) => { sub8(ctx, ctx.regs[0]! & 0xff, imm, 0); advanceBy(ctx, len); return true; };
  if (op === 0xa8) return (ctx) => { logic8(ctx, ctx.regs[0]! & imm); advanceBy(ctx, len); return true; };
  if (!regForm) return undefined;
  const { i: m, shift: ms } = byteRegister(insn.rm, insn.rex), { i: g, shift: gs } = byteRegister(insn.reg, insn.rex);
  if (op === 0x38) return (ctx) => { const r = ctx.regs; sub8(ctx, (r[m]! >> ms) & 0xff, (r[g]! >> gs) & 0xff, 0); advanceBy(ctx, len); return true; };
  if (op === 0x3a) return (ctx) => { const r = ctx.regs; sub8(ctx, (r[g]! >> gs) & 0xff, (r[m]! >> ms) & 0xff, 0); advanceBy(ctx, len); return true; };
  if (op === 0x80 && (insn.reg & 7) === OP_CMP) return (ctx) => { sub8(ctx, (ctx.regs[m]! >> ms) & 0xff, imm, 0); advanceBy(ctx, len); return true; };
  if (op === 0x84) return (ctx) => { const r = ctx.regs; logic8(ctx, (r[m]! >> ms) & (r[g]! >> gs) & 0xff); advanceBy(ctx, len); return true; };
  if (op === 0xf6 && (insn.reg & 7) < 2) return (ctx) => { logic8(ctx, (ctx.regs[m]! >> ms) & imm); advanceBy(ctx, len); return true; };
  return undefined;
}

/** Group 2 (C1 imm8, D1 by 1) on a register, count != 0 after masking (group2 in ops-shift). */
function shiftImmReg(insn: Instruction, op: number, size: 4 | 8, raw: number): Compiled | undefined {
  const len = insn.length;
  const c = raw & (size === 8 ? 0x3f : 0x1f);
  if (insn.mod !== 3 || c === 0) return undefined;
  const d = insn.rm << 1;
  return (ctx) => { shiftRegister(ctx, op, size, d, c); advanceBy(ctx, len); return true; };
}

/** Group-2 operation op on register d (a regs index) by c (masked, non-zero), flags as group2's. */
export function shiftRegister(ctx: ExecContext, op: number, size: 4 | 8, d: number, c: number): void {
  const r = ctx.regs;
  const cfIn = carry(ctx);
  const v = size === 8 ? shift64(op, r[d]!, r[d + 1]!, c, cfIn) : shiftSmall(op, 4, r[d]!, c, cfIn);
  shiftFlags(ctx, op, size, v, shiftOut.hi, shiftOut.cf, shiftOut.of);
  r[d] = v; r[d + 1] = size === 8 ? shiftOut.hi : 0;
}

/**
 * IMUL reg, r/m, imm (69/6B: srcReg < 0, the immediate b:bh) and IMUL reg, r/m (0F AF: the
 * reg operand, srcReg its regs index), register r/m only (imulReg in ops-muldiv).
 */
function imulReg(insn: Instruction, size: 4 | 8, b: number, bh: number, srcReg: number): Compiled | undefined {
  const len = insn.length;
  if (insn.mod !== 3) return undefined;
  const s = insn.rm << 1, d = insn.reg << 1;
  return (ctx) => {
    imulRegister(ctx, size, d, s, b, bh, srcReg);
    advanceBy(ctx, len);
    return true;
  };
}

/**
 * IMUL into register d (a regs index) of register s and the immediate b:bh (srcReg < 0) or
 * register srcReg, flags as imul's: the closures' body and the cold records' (cold-code.ts).
 */
export function imulRegister(ctx: ExecContext, size: 4 | 8, d: number, s: number, b: number, bh: number, srcReg: number): void {
  const r = ctx.regs;
  const ovf = srcReg < 0
    ? product(size, true, r[s]!, size === 8 ? r[s + 1]! : 0, b, bh)
    : product(size, true, r[s]!, size === 8 ? r[s + 1]! : 0, r[srcReg]!, size === 8 ? r[srcReg + 1]! : 0);
  r[d] = wide.w0; r[d + 1] = size === 8 ? wide.w1 : 0;
  mulFlags(ctx, ovf);
}
