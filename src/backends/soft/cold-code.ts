/**
 * How blocks not yet compiled run (64-bit code): the commonest instruction shapes as records of
 * W int32s, run by one switch, the others through their closures (compile.ts). A Linux boot
 * runs ~170 M instructions in blocks that never get hot enough to compile, spread over ~60 K
 * blocks: per instruction, a closure call loaded the closure, its context and the instruction
 * object, each often a cache miss. The records of all blocks sit in one arena in the order the
 * blocks were built, which is the order code first runs in, so a block's records are a few
 * adjacent cache lines, often next to those of the block that ran before it.
 *
 * The records carry no semantics of their own: the ALU operations and INC/DEC are alu.ts's,
 * conditions lazy-flags.ts conditionOf, addresses address.ts addressOf, branches and stack
 * accesses fast64.ts's (CALL through a register too), LEA, shifts, IMUL and MOVZX/MOVSX the
 * specialised closures' (specialise.ts lea64, shiftRegister, imulRegister), BSWAP and CMOVcc's
 * rule for a false condition ops-move.ts's and undefined-flags.ts's (shared helpers), the XMM
 * forms the lane helpers of src/x86/sse/lanes.ts, and whatever a fast path does not cover goes to
 * the instruction's closure.
 */
import type { Instruction } from '../../x86/instruction.js';
import { REG_RIP as REG_RIP_ } from '../../x86/instruction.js';
import { addressOf } from '../../x86/exec/address.js';
import { add32, add64, incDec32, incDec64, logic32, logic64, logic8, OP_ADC, OP_AND, OP_CMP, OP_OR, OP_SBB, OP_SUB, OP_XOR, sub32, sub64, sub8 } from '../../x86/exec/alu.js';
import { conditionOf } from '../../x86/exec/lazy-flags.js';
import { call64, callAbsolute64, pop64, push64, ret64, stepRip64 } from '../../x86/exec/fast64.js';
import { canonicalHigh } from '../../x86/exec/ops-control.js';
import { bswap32, onlyAdvances, opcodeReg } from '../../x86/exec/ops-move.js';
import { cmovFalseWritesReg } from '../../x86/exec/undefined-flags.js';
import { byteRegister, half } from '../../x86/exec/regs.js';
import { imulRegister, lea64, shiftRegister } from '../../x86/exec/specialise.js';
import { extendInto, signExtendInto } from '../../x86/exec/specialise-move.js';
import type { ExecContext } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { probePair } from './tlb.js';
import { closureAt, type ClosureSlots } from './block-closures.js';
import { LANE_OPS, vectorLoadTarget, vectorOp } from './vector-forms.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR } from '../../x86/sse/context.js';
import {
  addLanes32, andLanes32, andnLanes32, moveLanes32, orLanes32, shuffleLanes32, sllLanes32, sraLanes32, srlLanes32, unpackLow32, unpackLow64, xorLanes32,
  zeroExtendLanes32,
} from '../../x86/sse/lanes.js';

/**
 * Int32s per record: [0] form, [1] length, [2] destination (a regs index; the condition for
 * Jcc), [3] source register, immediate or branch offset, [4] immediate's high half (CMOVcc: the
 * condition), and for a memory operand [5] base register, [6] (index + 1) | scale << 8 |
 * segment << 16, [7] disp.
 */
export const W = 8;

/**
 * Forms; ALU_* + the group-1 operation (ADD OR _ _ AND SUB XOR CMP): RR reg,reg; RI reg,imm; LD
 * reg,[mem]; MR [mem],reg; MI [mem],imm. 0: the closure runs it.
 */
const CLOSURE = 0, NOP = 1, MOV_RR4 = 2, MOV_RR8 = 3, MOV_LD4 = 4, MOV_LD8 = 5, MOV_ST4 = 6, MOV_ST8 = 7,
  MOV_RI = 8, JCC = 9, JMP = 10, CALL = 11, RET = 12, PUSH = 13, POP = 14, TEST4 = 15, TEST8 = 16,
  LEA4 = 17, LEA8 = 18, SHIFT4 = 19, SHIFT8 = 20, EXT_R = 21, EXT_M = 22, MOVSXD_R = 23, MOVSXD_M = 24,
  MOV_SI4 = 25, MOV_SI8 = 26, CMP1 = 27, TEST1 = 28, MOV_ST1 = 29, MOV_ST2 = 30, MOV_LD1 = 31,
  ALU_RR4 = 32, ALU_RR8 = 40, ALU_RI4 = 48, ALU_RI8 = 56, ALU_LD4 = 64, ALU_LD8 = 72,
  ALU_MR4 = 80, ALU_MR8 = 88, ALU_MI4 = 96, ALU_MI8 = 104, ALU_END = 112;
/**
 * Forms past the ALU rows (runMore): TEST with an immediate or a memory operand, SETcc to a byte
 * register, CMOVcc between registers, BSWAP, NOT, INC/DEC; 8: the 64-bit form (the 32-bit one + 1).
 */
const TEST_RI4 = 112, TEST_MR4 = 114, TEST_MI4 = 116, SETCC = 118, CMOV4 = 120, BSWAP4 = 122, NOT4 = 124,
  INCDEC_R4 = 126, INCDEC_M4 = 128, MORE_END = 130;
/**
 * The XMM forms of vector-forms.ts (runVector): VEC_RR, a register form: [2] its LANE_OPS index,
 * [3] the destination, [4] the source | the immediate << 8; VEC_LD, MOVD xmm, m32: [2] the
 * destination, [5..7] the memory operand.
 */
const VEC_RR = 130, VEC_LD = 131;
/**
 * IMUL reg, reg (0F AF) and IMUL reg, reg, imm (69/6B): [2] the destination, [3] the r/m register,
 * [4] the other source register or -1 for the immediate, [5] [6] the immediate's halves.
 */
const IMUL4 = 132, IMUL8 = 133;
/** CALL through a 64-bit register (FF /2): [2] the register. */
const CALL_R = 134;
/** A SHIFT4/SHIFT8 record's count ([4]) when the count is CL's (D3): read as the record runs. */
const COUNT_CL = -1;
const LANE_ADD = LANE_OPS.indexOf('addLanes32'), LANE_AND = LANE_OPS.indexOf('andLanes32'), LANE_ANDN = LANE_OPS.indexOf('andnLanes32'),
  LANE_OR = LANE_OPS.indexOf('orLanes32'), LANE_XOR = LANE_OPS.indexOf('xorLanes32'), LANE_UNPACK32 = LANE_OPS.indexOf('unpackLow32'),
  LANE_UNPACK64 = LANE_OPS.indexOf('unpackLow64'), LANE_SHUFFLE = LANE_OPS.indexOf('shuffleLanes32'), LANE_MOVE = LANE_OPS.indexOf('moveLanes32'),
  LANE_SRL = LANE_OPS.indexOf('srlLanes32'), LANE_SRA = LANE_OPS.indexOf('sraLanes32');
const RIP_LO = 32, RSP = 8, SEG_FS = 4, TWO32 = 4294967296;
// A module-local copy: an imported binding is loaded and hole-checked at every use.
const REG_RIP = REG_RIP_;

/**
 * Arena size in int32s (16 MiB: a Linux boot's ~60 K blocks take ~10 MiB); a full arena is left to
 * the blocks that use it (freed with the last of them) and a new one started. Made on first use.
 */
const ARENA = 1 << 22;
let arena: Int32Array | undefined, top = 0;

/** Where encodeBlock put the records it returned. */
export const encoded = { at: 0 };

/**
 * Records for a block of 64-bit instructions (the arena, the first at encoded.at), or
 * undefined when no instruction has a record form.
 */
export function encodeBlock(insns: readonly Instruction[]): Int32Array | undefined {
  const len = insns.length * W;
  if (arena === undefined || top + len > arena.length) { arena = new Int32Array(ARENA); top = 0; }
  let any = false;
  for (let k = 0; k < insns.length; k++) {
    const p = top + k * W;
    arena.fill(0, p, p + W);
    if (encode(insns[k]!, arena, p)) any = true;
    else arena[p] = CLOSURE;
  }
  if (!any) return undefined;
  encoded.at = top;
  top += len;
  return arena;
}

/** A memory operand's fields; false: not a form records take (32/16-bit addresses, moffs64). */
function memory(insn: Instruction, c: Int32Array, p: number): boolean {
  const m = insn.mem;
  if (m === null || insn.addrSize !== 8 || (m.disp | 0) !== m.disp) return false;
  c[p + 5] = m.base; c[p + 6] = (m.index + 1) | (m.scale << 8) | (m.seg << 16); c[p + 7] = m.disp;
  return true;
}

/** The group-1 operations records take (ADC/SBB read CF: their closures run them). */
function recordAlu(op: number): boolean {
  return op !== OP_ADC && op !== OP_SBB;
}

function encode(insn: Instruction, c: Int32Array, p: number): boolean {
  if (insn.mode !== 64 || insn.vex !== 0 || insn.lock) return false;
  c[p + 1] = insn.length;
  if (onlyAdvances(insn)) { c[p] = NOP; return true; }
  if (insn.mnemonic === 'sse') return encodeVector(insn, c, p);
  const size = insn.opSize, op = insn.opcode, branch = insn.length + (insn.imm | 0);
  if (size === 8 && ((insn.map === 0 && op >= 0x70 && op <= 0x7f) || (insn.map === 1 && op >= 0x80 && op <= 0x8f))) {
    c[p] = JCC; c[p + 2] = op & 15; c[p + 3] = branch;
    return true;
  }
  if (insn.map === 1 && (op & 0xf6) === 0xb6 && (size === 4 || size === 8)) return extend(insn, c, p);
  if (insn.map === 1) return size === 1 ? encodeByte(insn, c, p) : (size === 4 || size === 8) && encodeMore(insn, c, p);
  if (insn.map !== 0) return false;
  if (size === 8 && (op === 0xe9 || op === 0xeb)) { c[p] = JMP; c[p + 3] = branch; return true; }
  if (size === 8 && op === 0xe8) { c[p] = CALL; c[p + 3] = branch; return true; }
  if (size === 8 && op === 0xc3) { c[p] = RET; return true; }
  if (op >= 0x50 && op <= 0x5f && !insn.opsizePrefix) {
    c[p] = op >= 0x58 ? POP : PUSH; c[p + 2] = ((op & 7) | ((insn.rex & 1) << 3)) << 1;
    return true;
  }
  if (size === 1) return encodeByte(insn, c, p);
  if (size === 2 && op === 0x89 && insn.mod !== 3) {
    if (!memory(insn, c, p)) return false;
    c[p] = MOV_ST2; c[p + 2] = insn.reg << 1;
    return true;
  }
  if (size !== 4 && size !== 8) return false;
  const wide = size === 8, reg = insn.reg << 1, rm = insn.rm << 1;
  if (op === 0x89 || op === 0x8b) {
    const store = op === 0x89;
    if (insn.mod === 3) { c[p] = wide ? MOV_RR8 : MOV_RR4; c[p + 2] = store ? rm : reg; c[p + 3] = store ? reg : rm; return true; }
    if (!memory(insn, c, p)) return false;
    c[p] = store ? (wide ? MOV_ST8 : MOV_ST4) : (wide ? MOV_LD8 : MOV_LD4); c[p + 2] = reg;
    return true;
  }
  if (op >= 0xb8 && op <= 0xbf) {
    c[p] = MOV_RI; c[p + 2] = ((op & 7) | ((insn.rex & 1) << 3)) << 1; c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0;
    return true;
  }
  if (op === 0x85 && insn.mod === 3) { c[p] = wide ? TEST8 : TEST4; c[p + 2] = rm; c[p + 3] = reg; return true; }
  if (op === 0x8d) {
    if (insn.mod === 3 || !memory(insn, c, p)) return false;
    c[p] = wide ? LEA8 : LEA4; c[p + 2] = reg;
    return true;
  }
  if ((op === 0xc1 || op === 0xd1 || op === 0xd3) && insn.mod === 3) {
    const count = op === 0xd3 ? COUNT_CL : (op === 0xd1 ? 1 : insn.imm) & (wide ? 0x3f : 0x1f);
    if (count === 0) return false;
    c[p] = wide ? SHIFT8 : SHIFT4; c[p + 2] = rm; c[p + 3] = insn.reg & 7; c[p + 4] = count;
    return true;
  }
  if ((op === 0x69 || op === 0x6b) && insn.mod === 3) {
    c[p] = wide ? IMUL8 : IMUL4; c[p + 2] = reg; c[p + 3] = rm; c[p + 4] = -1; c[p + 5] = insn.imm; c[p + 6] = wide ? insn.immHi : 0;
    return true;
  }
  if (op === 0xc7 && (insn.reg & 7) === 0) {
    if (insn.mod === 3) { c[p] = MOV_RI; c[p + 2] = rm; c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0; return true; }
    if (!memory(insn, c, p)) return false;
    c[p] = wide ? MOV_SI8 : MOV_SI4; c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0;
    return true;
  }
  if (op === 0x63) {
    c[p + 2] = reg; c[p + 4] = wide ? 1 : 0;
    if (insn.mod === 3) { c[p] = MOVSXD_R; c[p + 3] = rm; return true; }
    if (!memory(insn, c, p)) return false;
    c[p] = MOVSXD_M;
    return true;
  }
  // Group-1 rows: 01 r/m,reg; 03 reg,r/m; 05 rAX,imm; 81/83 r/m,imm (register forms).
  const row = op < 0x40 && ((op & 7) === 1 || (op & 7) === 3 || (op & 7) === 5), alu = row ? (op >> 3) & 7 : insn.reg & 7;
  if (row && recordAlu(alu)) {
    const form = op & 7;
    if (form === 5) { c[p] = (wide ? ALU_RI8 : ALU_RI4) + alu; c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0; return true; }
    if (insn.mod === 3) { c[p] = (wide ? ALU_RR8 : ALU_RR4) + alu; c[p + 2] = form === 1 ? rm : reg; c[p + 3] = form === 1 ? reg : rm; return true; }
    if (!memory(insn, c, p)) return false;
    if (form === 3) { c[p] = (wide ? ALU_LD8 : ALU_LD4) + alu; c[p + 2] = reg; return true; }
    if (!writableShape(alu, c, p)) return false;
    c[p] = (wide ? ALU_MR8 : ALU_MR4) + alu; c[p + 3] = reg;
    return true;
  }
  if ((op === 0x81 || op === 0x83) && recordAlu(alu)) {
    c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0;
    if (insn.mod === 3) { c[p] = (wide ? ALU_RI8 : ALU_RI4) + alu; c[p + 2] = rm; return true; }
    if (!memory(insn, c, p) || !writableShape(alu, c, p)) return false;
    c[p] = (wide ? ALU_MI8 : ALU_MI4) + alu;
    return true;
  }
  return encodeMore(insn, c, p);
}

/**
 * A memory destination the record may write: CMP writes none; the others are written only by
 * the pair probe's way (runAlu), so an operand it cannot serve (FS/GS, an index) is left to the
 * closure from the start rather than tried at each run.
 */
function writableShape(alu: number, c: Int32Array, p: number): boolean {
  return alu === OP_CMP || pairShaped(c, p);
}

/** The forms past the ALU rows (see TEST_RI4); the size is 4 or 8 here, the map 0 or 1. */
function encodeMore(insn: Instruction, c: Int32Array, p: number): boolean {
  const op = insn.opcode, wide = insn.opSize === 8 ? 1 : 0, digit = insn.reg & 7;
  const onRm = (register: number, memoryForm: number): boolean => {
    if (insn.mod === 3) { c[p] = register + wide; c[p + 2] = insn.rm << 1; return true; }
    if (!memory(insn, c, p)) return false;
    c[p] = memoryForm + wide;
    return true;
  };
  if (insn.map === 1) {
    if (op >= 0x40 && op <= 0x4f && insn.mod === 3) {
      c[p] = CMOV4 + wide; c[p + 2] = insn.reg << 1; c[p + 3] = insn.rm << 1; c[p + 4] = op & 15;
      return true;
    }
    if (op >= 0xc8 && op <= 0xcf) { c[p] = BSWAP4 + wide; c[p + 2] = opcodeReg(insn) << 1; return true; }
    if (op === 0xaf && insn.mod === 3) { c[p] = IMUL4 + wide; c[p + 2] = insn.reg << 1; c[p + 3] = insn.rm << 1; c[p + 4] = insn.reg << 1; return true; }
    return false;
  }
  // TEST r/m, reg with a register r/m is TEST4/TEST8 (encode).
  if (op === 0x85 && insn.mod !== 3 && memory(insn, c, p)) { c[p] = TEST_MR4 + wide; c[p + 3] = insn.reg << 1; return true; }
  if (op === 0xa9) { c[p] = TEST_RI4 + wide; c[p + 2] = 0; c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0; return true; }
  if (op === 0xf7 && digit === 0) { c[p + 3] = insn.imm; c[p + 4] = wide ? insn.immHi : 0; return onRm(TEST_RI4, TEST_MI4); }
  if (op === 0xf7 && digit === 2 && insn.mod === 3) { c[p] = NOT4 + wide; c[p + 2] = insn.rm << 1; return true; }
  if (op === 0xff && digit === 2 && insn.mod === 3 && wide) { c[p] = CALL_R; c[p + 2] = insn.rm << 1; return true; }
  if (op === 0xff && digit < 2) { c[p + 3] = digit; return onRm(INCDEC_R4, INCDEC_M4) && (insn.mod === 3 || pairShaped(c, p)); }
  return false;
}

/** The XMM forms of vector-forms.ts (see VEC_RR); false for the other MMX/SSE forms. */
function encodeVector(insn: Instruction, c: Int32Array, p: number): boolean {
  const v = vectorOp(insn);
  if (v !== undefined) { c[p] = VEC_RR; c[p + 2] = LANE_OPS.indexOf(v.op); c[p + 3] = v.dst; c[p + 4] = v.src | (v.imm << 8); return true; }
  const dst = vectorLoadTarget(insn);
  if (dst < 0 || !memory(insn, c, p)) return false;
  c[p] = VEC_LD; c[p + 2] = dst;
  return true;
}

/** A byte register operand: its regs index | the bit offset of the byte in it << 8 (AH..BH: 8). */
function byteOperand(n: number, rex: number): number {
  const { i, shift } = byteRegister(n, rex);
  return i | (shift << 8);
}

/**
 * Byte CMP and TEST (38, 3A, 3C, 80 /7, 84, A8, F6 /0-1) and byte stores (88, C6 /0 to memory):
 * [2] the r/m operand (a byte register, or -1: the memory operand), [3] the other (a byte
 * register, or with [4] = 1 an immediate); [4] = 2: 3A CMP r8, r/m8, whose operands go the other way.
 */
function encodeByte(insn: Instruction, c: Int32Array, p: number): boolean {
  const op = insn.opcode, digit = insn.reg & 7;
  const rmOperand = (): boolean => {
    if (insn.mod === 3) { c[p + 2] = byteOperand(insn.rm, insn.rex); return true; }
    c[p + 2] = -1;
    return memory(insn, c, p);
  };
  const imm = (v: number): void => { c[p + 3] = v & 0xff; c[p + 4] = 1; };
  const reg = (): void => { c[p + 3] = byteOperand(insn.reg, insn.rex); c[p + 4] = 0; };
  if (op === 0x3c || op === 0xa8) { c[p] = op === 0x3c ? CMP1 : TEST1; c[p + 2] = 0; imm(insn.imm); return true; }
  if (op === 0x38 || op === 0x3a || op === 0x84) {
    if (!rmOperand()) return false;
    reg();
    if (op === 0x3a) c[p + 4] = 2;
    c[p] = op === 0x84 ? TEST1 : CMP1;
    return true;
  }
  if ((op === 0x80 && digit === 7) || (op === 0xf6 && digit < 2)) {
    if (!rmOperand()) return false;
    imm(insn.imm);
    c[p] = op === 0x80 ? CMP1 : TEST1;
    return true;
  }
  if (insn.map === 1) {
    if (op < 0x90 || op > 0x9f || insn.mod !== 3) return false;
    c[p] = SETCC; c[p + 2] = byteOperand(insn.rm, insn.rex); c[p + 3] = op & 15;
    return true;
  }
  if (op === 0x8a && insn.mod !== 3) {
    if (!memory(insn, c, p)) return false;
    c[p] = MOV_LD1; c[p + 2] = byteOperand(insn.reg, insn.rex);
    return true;
  }
  if ((op === 0x88 || (op === 0xc6 && digit === 0)) && insn.mod !== 3) {
    if (!memory(insn, c, p)) return false;
    if (op === 0x88) reg(); else imm(insn.imm);
    c[p] = MOV_ST1;
    return true;
  }
  return false;
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX to a 32/64-bit register ([4]: shift | byte << 8 | signed << 9 | 64-bit << 10). */
function extend(insn: Instruction, c: Int32Array, p: number): boolean {
  const byte = (insn.opcode & 1) === 0;
  let flags = (byte ? 1 << 8 : 0) | (insn.opcode >= 0xbe ? 1 << 9 : 0) | (insn.opSize === 8 ? 1 << 10 : 0);
  c[p + 2] = insn.reg << 1;
  if (insn.mod === 3) {
    const { i, shift } = byte ? byteRegister(insn.rm, insn.rex) : { i: insn.rm << 1, shift: 0 };
    c[p] = EXT_R; c[p + 3] = i; flags |= shift;
  } else {
    if (!memory(insn, c, p)) return false;
    c[p] = EXT_M;
  }
  c[p + 4] = flags;
  return true;
}

/** A group-1 operation on 32-bit values: the result (flags recorded as alu.ts does). */
function alu32(cpu: SoftCpu, op: number, a: number, b: number): number {
  switch (op) {
    case OP_OR: return logic32(cpu, a | b);
    case OP_AND: return logic32(cpu, a & b);
    case OP_SUB: case OP_CMP: return sub32(cpu, a, b, 0);
    case OP_XOR: return logic32(cpu, a ^ b);
    default: return add32(cpu, a, b, 0);
  }
}

/** The same on 64-bit (lo, hi) pairs; the result's high half in half.hi. */
function alu64(cpu: SoftCpu, op: number, a: number, ah: number, b: number, bh: number): number {
  switch (op) {
    case OP_OR: return logic64(cpu, a | b, ah | bh);
    case OP_AND: return logic64(cpu, a & b, ah & bh);
    case OP_SUB: case OP_CMP: return sub64(cpu, a, ah, b, bh, 0);
    case OP_XOR: return logic64(cpu, a ^ b, ah ^ bh);
    default: return add64(cpu, a, ah, b, bh, 0);
  }
}

/** The memory operand's index register (REG_NONE: -1) and scale, from the word memory() packed. */
function indexOf(c: Int32Array, p: number): number {
  return (c[p + 6]! & 0xff) - 1;
}

function scaleOf(c: Int32Array, p: number): number {
  return (c[p + 6]! >> 8) & 0xff;
}

function address(cpu: SoftCpu, c: Int32Array, p: number): number {
  return addressOf(cpu, 8, c[p + 5]!, indexOf(c, p), scaleOf(c, p), c[p + 7]!, c[p + 1]!);
}

/**
 * The byte offset in the ram views of a record's size-byte access (write: a store), found with
 * int32 arithmetic only (tlb.ts probePair), or -1. It takes a base register or RIP and a
 * displacement through DS/ES/SS whose sum stays within the register's 4 GiB, and through FS/GS
 * (Linux's per-CPU data, `incl %gs:var(%rip)`) the segment base, the base register or RIP if any
 * and the displacement summed in a double: exact where the address is canonical, and where a
 * register is too large for that the sum is not canonical either and no TLB entry matches it. The
 * rest (an index register, a carry into the high half, a locked run, misses, MMIO, unaligned
 * accesses, faults) goes through read()/write(), which decide everything.
 */
function pairOffset(cpu: SoftCpu, c: Int32Array, p: number, size: number, write: boolean): number {
  if (!pairShaped(c, p)) return -1;
  // RIP (whose halves sit where register REG_RIP's would) counts from the next instruction.
  const b = c[p + 5]!, seg = c[p + 6]! >> 16, r = cpu.regs, d = b === REG_RIP ? c[p + 7]! + c[p + 1]! : c[p + 7]!;
  if (seg >= SEG_FS) {
    const a = cpu.segBase[seg]! + d + (b < 0 ? 0 : r[(b << 1) + 1]! * TWO32 + (r[b << 1]! >>> 0)), hi = Math.floor(a / TWO32);
    return ramOffset(cpu, (a - hi * TWO32) | 0, hi | 0, size, write);
  }
  const rlo = r[b << 1]!, lo = (rlo + d) | 0;
  if (d >= 0 ? (lo >>> 0) < (rlo >>> 0) : (lo >>> 0) > (rlo >>> 0)) return -1;
  return ramOffset(cpu, lo, r[(b << 1) + 1]!, size, write);
}

/** A memory operand pairOffset may serve: no index, and a base register or FS/GS (or both). */
function pairShaped(c: Int32Array, p: number): boolean {
  const m = c[p + 6]!;
  return (m & 0xff) === 0 && (c[p + 5]! >= 0 || m >> 16 >= SEG_FS);
}

/** probePair with the tags of this access kind and privilege; -1 in a locked run (read()/write() serve it). */
function ramOffset(cpu: SoftCpu, lo: number, hi: number, size: number, write: boolean): number {
  const l = cpu.locked;
  if (l !== undefined && l.running) return -1;
  const t = cpu.tlb, user = cpu.cpl === 3;
  return probePair(write ? (user ? t.writeLoU : t.writeLoS) : (user ? t.readLoU : t.readLoS), t.tagHi, t.at8, lo, hi, size);
}

/** A record's memory operand read at size (8: the high half in cpu.memHi). */
function load(cpu: SoftCpu, c: Int32Array, p: number, size: 1 | 2 | 4 | 8): number {
  const o = pairOffset(cpu, c, p, size, false);
  return o >= 0 ? cpu.ramLoad(o, size) : cpu.read(c[p + 6]! >> 16, address(cpu, c, p), size);
}

/** A record's memory operand written at size with (lo, hi). */
function store(cpu: SoftCpu, c: Int32Array, p: number, size: 1 | 2 | 4 | 8, lo: number, hi: number): void {
  const o = pairOffset(cpu, c, p, size, true);
  if (o >= 0) cpu.ramStore(o, size, lo, hi);
  else cpu.write(c[p + 6]! >> 16, address(cpu, c, p), size, lo, hi);
}

/**
 * The stack's 64-bit PUSH, POP and RET by the pair probe (fast64.ts push64, pop64 and ret64 with
 * RSP as int32 halves): each returns false, having changed nothing, where RSP's low half would
 * carry or the probe misses, and the fast64 helper then runs the instruction.
 */
function pushPair(cpu: SoftCpu, v: number, vh: number): boolean {
  const r = cpu.regs, sp = r[RSP]!, top = (sp - 8) | 0;
  if ((sp >>> 0) < 8) return false;
  const o = ramOffset(cpu, top, r[RSP + 1]!, 8, true);
  if (o < 0) return false;
  cpu.ramStore(o, 8, v, vh);
  r[RSP] = top;
  return true;
}

/** PUSH as the records run it: the pair probe's way, else push64's. */
function pushRecord(cpu: SoftCpu, v: number, vh: number): boolean {
  return pushPair(cpu, v, vh) || push64(cpu, v, vh);
}

/** POP into register d; POP RSP ends with the popped value, as pop64 leaves it. */
function popPair(cpu: SoftCpu, d: number): boolean {
  const r = cpu.regs, sp = r[RSP]!;
  if ((sp >>> 0) > 0xfffffff7) return false;
  const o = ramOffset(cpu, sp, r[RSP + 1]!, 8, false);
  if (o < 0) return false;
  const v = cpu.ramLoad(o, 8), vh = cpu.memHi;
  r[RSP] = (sp + 8) | 0;
  r[d] = v; r[d + 1] = vh;
  return true;
}

/** RET to a canonical return address (ret64 raises the #GP for any other). */
function retPair(cpu: SoftCpu): boolean {
  const r = cpu.regs, sp = r[RSP]!;
  if ((sp >>> 0) > 0xfffffff7) return false;
  const o = ramOffset(cpu, sp, r[RSP + 1]!, 8, false);
  if (o < 0) return false;
  const v = cpu.ramLoad(o, 8), vh = cpu.memHi;
  const ctx: ExecContext = cpu;
  if (!canonicalHigh(ctx.la57, vh)) return false;
  r[RSP] = (sp + 8) | 0;
  r[RIP_LO] = v; r[RIP_LO + 1] = vh;
  return true;
}

/** Where the last runCold stopped: the instruction a throw came from, or the one that declined. */
export const coldOut = { at: 0, declined: false };

/** What runCold reads of a block (cpu.ts Block): its records from codeAt, and its closures. */
export interface ColdBlock extends ClosureSlots {
  readonly code: Int32Array | undefined;
  readonly codeAt: number;
}

/**
 * Runs up to n instructions of a block from its first: its records (code from codeAt; undefined:
 * none), the closures where an instruction has none (made on first use). Each retired instruction counts in
 * cpu.instret as it retires. Stops after a write that dropped decoded code (cpu.codeGen moved).
 * Returns how many retired; coldOut.declined: the next one declined (left to the system layer).
 */
export function runCold(cpu: SoftCpu, block: ColdBlock, n: number): number {
  const code = block.code, at = block.codeAt;
  // Retired instructions are counted in k and added to cpu.instret as the run leaves (a load and
  // store of that field per instruction otherwise); a closure sees it exact (RDTSC reads it).
  const gen = cpu.codeGen, r = cpu.regs, before = cpu.instret;
  let k = 0;
  coldOut.declined = false;
  try {
    for (; k < n; k++) {
      const p = at + k * W;
      const f = code === undefined ? CLOSURE : code[p]!;
      // Whether RIP moves past the instruction here (branches move it themselves), and whether the
      // instruction's closure runs it (it has no record, or the record's fast path does not apply).
      let past = true, closure = false;
      switch (f) {
        case CLOSURE: closure = true; break;
        case NOP: break;
        case MOV_RR4: { const d = code![p + 2]!; r[d] = r[code![p + 3]!]!; r[d + 1] = 0; break; }
        case MOV_RR8: { const d = code![p + 2]!, s = code![p + 3]!; r[d] = r[s]!; r[d + 1] = r[s + 1]!; break; }
        case MOV_LD4: { const v = load(cpu, code!, p, 4), d = code![p + 2]!; r[d] = v; r[d + 1] = 0; break; }
        case MOV_LD8: { const v = load(cpu, code!, p, 8), d = code![p + 2]!; r[d] = v; r[d + 1] = cpu.memHi; break; }
        case MOV_ST4: { const d = code![p + 2]!; store(cpu, code!, p, 4, r[d]!, 0); break; }
        case MOV_ST8: { const d = code![p + 2]!; store(cpu, code!, p, 8, r[d]!, r[d + 1]!); break; }
        case MOV_RI: { const d = code![p + 2]!; r[d] = code![p + 3]!; r[d + 1] = code![p + 4]!; break; }
        case TEST4: logic32(cpu, r[code![p + 2]!]! & r[code![p + 3]!]!); break;
        case TEST8: { const a = code![p + 2]!, b = code![p + 3]!; logic64(cpu, r[a]! & r[b]!, r[a + 1]! & r[b + 1]!); break; }
        case JCC: case JMP:
          closure = !stepRip64(cpu, f === JMP || conditionOf(cpu, code![p + 2]!) ? code![p + 3]! : code![p + 1]!);
          past = false;
          break;
        case CALL: closure = !call64(cpu, code![p + 3]!, code![p + 1]!, pushRecord); past = false; break;
        case CALL_R: { const s = code![p + 2]!; closure = !callAbsolute64(cpu, r[s]!, r[s + 1]!, code![p + 1]!, pushRecord); past = false; break; }
        case RET: closure = !(retPair(cpu) || ret64(cpu)); past = false; break;
        case PUSH: { const d = code![p + 2]!; closure = !pushRecord(cpu, r[d]!, r[d + 1]!); break; }
        case POP: closure = !(popPair(cpu, code![p + 2]!) || pop64(cpu, code![p + 2]!)); break;
        case LEA4: case LEA8: lea64(cpu, f === LEA8 ? 8 : 4, code![p + 2]!, code![p + 5]!, indexOf(code!, p), scaleOf(code!, p), code![p + 7]!, code![p + 1]!); break;
        case SHIFT4: case SHIFT8: {
          let count = code![p + 4]!;
          // A count of 0 (after masking) leaves the flags: the closure's case.
          if (count === COUNT_CL && (count = r[2]! & (f === SHIFT8 ? 0x3f : 0x1f)) === 0) { closure = true; break; }
          shiftRegister(cpu, code![p + 3]!, f === SHIFT8 ? 8 : 4, code![p + 2]!, count);
          break;
        }
        case IMUL4: case IMUL8: imulRegister(cpu, f === IMUL8 ? 8 : 4, code![p + 2]!, code![p + 3]!, code![p + 5]!, code![p + 6]!, code![p + 4]!); break;
        case EXT_R: case EXT_M: {
          const x = f === EXT_R ? r[code![p + 3]!]! >> (code![p + 4]! & 0xff) : load(cpu, code!, p, (code![p + 4]! & 0x100) !== 0 ? 1 : 2);
          const flags = code![p + 4]!;
          extendInto(r, code![p + 2]!, x, (flags & 0x100) !== 0, (flags & 0x200) !== 0, (flags & 0x400) !== 0 ? 8 : 4);
          break;
        }
        case MOVSXD_R: case MOVSXD_M: {
          const v = f === MOVSXD_R ? r[code![p + 3]!]! : load(cpu, code!, p, 4);
          signExtendInto(r, code![p + 2]!, v, code![p + 4]! !== 0 ? 8 : 4);
          break;
        }
        case MOV_SI4: store(cpu, code!, p, 4, code![p + 3]!, 0); break;
        case MOV_SI8: store(cpu, code!, p, 8, code![p + 3]!, code![p + 4]!); break;
        case CMP1: case TEST1: case MOV_ST1: runByte(cpu, code!, p, f); break;
        case MOV_ST2: store(cpu, code!, p, 2, r[code![p + 2]!]! & 0xffff, 0); break;
        case MOV_LD1: {
          // A byte register: its regs index | the bit offset of the byte << 8; the rest of it stays.
          const v = load(cpu, code!, p, 1), d = code![p + 2]!, i = d & 0xff, at = d >> 8;
          r[i] = (r[i]! & ~(0xff << at)) | (v << at);
          break;
        }
        case VEC_RR: case VEC_LD: closure = !runVector(cpu, code!, p, f); break;
        default: closure = !(f < ALU_END ? runAlu(cpu, code!, p, f) : runMore(cpu, code!, p, f));
      }
      if (closure) {
        cpu.instret = before + k;
        if (!closureAt(block, k)(cpu)) { coldOut.declined = true; coldOut.at = k; return k; }
      } else if (past) {
        // In int32s: a carry out of the low half is the new low half below the old, unsigned (a
        // sum in a double made the engine convert it for the compare, per instruction).
        const old = r[RIP_LO]!, lo = (old + code![p + 1]!) | 0;
        if ((lo >>> 0) < (old >>> 0)) r[RIP_LO + 1] = (r[RIP_LO + 1]! + 1) | 0;
        r[RIP_LO] = lo;
      }
      if (cpu.codeGen !== gen) { cpu.instret = before + k + 1; return k + 1; }
    }
  } catch (e) {
    cpu.instret = before + k;
    coldOut.at = k;
    throw e;
  }
  cpu.instret = before + k;
  return k;
}

/** A byte operand's value: a byte register (regs index | bit offset << 8). */
function byteValue(r: Int32Array, operand: number): number {
  return (r[operand & 0xff]! >> (operand >> 8)) & 0xff;
}

/** The byte forms: CMP and TEST set the flags as alu.ts sub8/logic8 (their closures' helpers), MOV stores. */
function runByte(cpu: SoftCpu, c: Int32Array, p: number, f: number): void {
  const r = cpu.regs, kind = c[p + 4]!;
  const other = kind === 1 ? c[p + 3]! : byteValue(r, c[p + 3]!);
  if (f === MOV_ST1) { store(cpu, c, p, 1, other, 0); return; }
  const a = c[p + 2]!, rmValue = a < 0 ? load(cpu, c, p, 1) : byteValue(r, a);
  if (f === TEST1) logic8(cpu, rmValue & other);
  else if (kind === 2) sub8(cpu, other, rmValue, 0);
  else sub8(cpu, rmValue, other, 0);
}

/**
 * The ALU_* forms (CMP writes nothing). A memory destination other than CMP's is written only
 * where the pair probe finds the page writable in RAM (no fault, no code there: the TLB withholds
 * writes to code pages), read and written there; false, having changed nothing, otherwise: the
 * closure runs the instruction.
 */
function runAlu(cpu: SoftCpu, c: Int32Array, p: number, f: number): boolean {
  if (f >= ALU_END) throw new RangeError(`cold record form ${f}`);
  const r = cpu.regs, wide = ((f - ALU_RR4) & 8) !== 0, op = f & 7, write = op !== OP_CMP, size = wide ? 8 : 4;
  let b: number, bh: number;
  if (f < ALU_RI4 || (f >= ALU_MR4 && f < ALU_MI4)) { const s = c[p + 3]!; b = r[s]!; bh = wide ? r[s + 1]! : 0; }
  else if (f < ALU_LD4 || f >= ALU_MI4) { b = c[p + 3]!; bh = c[p + 4]!; }
  else { b = load(cpu, c, p, size); bh = wide ? cpu.memHi : 0; }
  if (f < ALU_MR4) {
    const d = c[p + 2]!;
    if (!wide) {
      const v = alu32(cpu, op, r[d]!, b);
      if (write) { r[d] = v; r[d + 1] = 0; }
    } else {
      const v = alu64(cpu, op, r[d]!, r[d + 1]!, b, bh);
      if (write) { r[d + 1] = half.hi; r[d] = v; }
    }
    return true;
  }
  if (!write) {
    const a = load(cpu, c, p, size);
    if (wide) alu64(cpu, op, a, cpu.memHi, b, bh); else alu32(cpu, op, a, b);
    return true;
  }
  const o = pairOffset(cpu, c, p, size, true);
  if (o < 0) return false;
  const a = cpu.ramLoad(o, size), ah = cpu.memHi;
  const v = wide ? alu64(cpu, op, a, ah, b, bh) : alu32(cpu, op, a, b);
  cpu.ramStore(o, size, v, wide ? half.hi : 0);
  return true;
}

/**
 * The XMM forms (VEC_RR, VEC_LD) through the lane helpers their table ops call; false, having
 * changed nothing, where the form would fault before its access (CR0.EM or TS set, CR4.OSFXSR
 * clear): the closure raises it.
 */
function runVector(cpu: SoftCpu, c: Int32Array, p: number, f: number): boolean {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) return false;
  const x = cpu.xmm32;
  if (f === VEC_LD) {
    zeroExtendLanes32(x[c[p + 2]!]!, load(cpu, c, p, 4), 0);
    return true;
  }
  const a = x[c[p + 3]!]!, w = c[p + 4]!, b = x[w & 0xff]!, imm = w >>> 8;
  switch (c[p + 2]) {
    case LANE_ADD: addLanes32(a, b, 4); break;
    case LANE_AND: andLanes32(a, b, 4); break;
    case LANE_ANDN: andnLanes32(a, b, 4); break;
    case LANE_OR: orLanes32(a, b, 4); break;
    case LANE_XOR: xorLanes32(a, b, 4); break;
    case LANE_UNPACK32: unpackLow32(a, b, 4); break;
    case LANE_UNPACK64: unpackLow64(a, b); break;
    case LANE_SHUFFLE: shuffleLanes32(a, b, imm); break;
    case LANE_MOVE: moveLanes32(a, b); break;
    case LANE_SRL: srlLanes32(a, 4, imm); break;
    case LANE_SRA: sraLanes32(a, 4, imm); break;
    default: sllLanes32(a, 4, imm);
  }
  return true;
}

/** The forms past the ALU rows (TEST_RI4 on); false, having changed nothing: the closure runs it. */
function runMore(cpu: SoftCpu, c: Int32Array, p: number, f: number): boolean {
  if (f >= MORE_END) throw new RangeError(`cold record form ${f}`);
  const r = cpu.regs, wide = (f & 1) !== 0, d = c[p + 2]!;
  switch (f & ~1) {
    case TEST_RI4: case TEST_MI4: case TEST_MR4: {
      // TEST_RI: register, immediate; TEST_MR: memory, register; TEST_MI: memory, immediate.
      const reg = f < TEST_MR4, regSource = !reg && f < TEST_MI4, s = c[p + 3]!;
      const a = reg ? r[d]! : load(cpu, c, p, wide ? 8 : 4), ah = reg ? r[d + 1]! : cpu.memHi;
      const b = regSource ? r[s]! : s, bh = regSource ? r[s + 1]! : c[p + 4]!;
      if (wide) logic64(cpu, a & b, ah & bh); else logic32(cpu, a & b);
      return true;
    }
    case SETCC: {
      const i = d & 0xff, shift = d >> 8;
      r[i] = (r[i]! & ~(0xff << shift)) | ((conditionOf(cpu, c[p + 3]!) ? 1 : 0) << shift);
      return true;
    }
    case CMOV4: {
      const s = c[p + 3]!;
      if (conditionOf(cpu, c[p + 4]!)) { r[d] = r[s]!; r[d + 1] = wide ? r[s + 1]! : 0; }
      else if (!wide && cmovFalseWritesReg()) r[d + 1] = 0;
      return true;
    }
    case BSWAP4: {
      const v = bswap32(r[d]!);
      if (wide) { r[d] = bswap32(r[d + 1]!); r[d + 1] = v; } else { r[d] = v; r[d + 1] = 0; }
      return true;
    }
    case NOT4:
      r[d] = ~r[d]!; r[d + 1] = wide ? ~r[d + 1]! : 0;
      return true;
    case INCDEC_R4: {
      const dec = c[p + 3] === 1;
      if (wide) { const v = incDec64(cpu, r[d]!, r[d + 1]!, dec); r[d + 1] = half.hi; r[d] = v; }
      else { r[d] = incDec32(cpu, r[d]!, dec); r[d + 1] = 0; }
      return true;
    }
    default: {
      // INCDEC_M4: the memory destination as runAlu's.
      const size = wide ? 8 : 4, o = pairOffset(cpu, c, p, size, true);
      if (o < 0) return false;
      const a = cpu.ramLoad(o, size), ah = cpu.memHi, dec = c[p + 3] === 1;
      const v = wide ? incDec64(cpu, a, ah, dec) : incDec32(cpu, a, dec);
      cpu.ramStore(o, size, v, wide ? half.hi : 0);
      return true;
    }
  }
}
