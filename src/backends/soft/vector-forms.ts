/**
 * Which XMM register forms the soft CPU's fast tiers run themselves, as data: the lane helper
 * (src/x86/sse/lanes.ts) each one is, and its registers. Compiled blocks put the helper's body in
 * their text (block-vector.ts), cold records call it (cold-code.ts): both read this table, so a
 * form means the same to each. Register forms only, the 66 prefix alone (no F2/F3), no LOCK, no
 * VEX; ModRM.reg and ModRM.rm are XMM numbers with their REX bits.
 */
import type { Instruction } from '../../x86/instruction.js';

/** The lane helpers, by the index cold records keep. */
export const LANE_OPS = [
  'addLanes32', 'andLanes32', 'andnLanes32', 'orLanes32', 'xorLanes32', 'unpackLow32', 'unpackLow64',
  'shuffleLanes32', 'moveLanes32', 'srlLanes32', 'sraLanes32', 'sllLanes32',
] as const;
export type LaneOp = typeof LANE_OPS[number];

/**
 * A form as its helper sees it: lane op op on XMM register dst, with XMM register src (the
 * two-register ops, unpacks, the shuffle and the move) or not (the shifts), and imm (the
 * shuffle's order, the shifts' count).
 */
export interface VectorOp { op: LaneOp; dst: number; src: number; imm: number }

/** 66 0F opcode -> the op of the two-register form (destination ModRM.reg, source ModRM.rm). */
const TWO_REGISTER: Readonly<Record<number, LaneOp>> = {
  0xfe: 'addLanes32', 0xdb: 'andLanes32', 0xdf: 'andnLanes32', 0xeb: 'orLanes32', 0xef: 'xorLanes32', 0x62: 'unpackLow32',
  0x6c: 'unpackLow64', 0x70: 'shuffleLanes32', 0x6f: 'moveLanes32',
};
/** 66 0F 72 /digit ib: the shifts of ModRM.rm by the immediate. */
const SHIFT_BY_DIGIT: Readonly<Record<number, LaneOp>> = { 2: 'srlLanes32', 4: 'sraLanes32', 6: 'sllLanes32' };

/** insn as one of these forms, or undefined (the closure runs it). */
export function vectorOp(insn: Instruction): VectorOp | undefined {
  if (insn.vex !== 0 || insn.map !== 1 || !insn.opsizePrefix || insn.rep !== 0 || insn.lock || !insn.hasModrm || insn.mod !== 3) return undefined;
  const code = insn.opcode, imm = insn.imm & 0xff;
  const two = TWO_REGISTER[code];
  if (two !== undefined) return { op: two, dst: insn.reg, src: insn.rm, imm };
  // 0F 7F MOVDQA: ModRM.rm is the destination.
  if (code === 0x7f) return { op: 'moveLanes32', dst: insn.rm, src: insn.reg, imm };
  const shift = code === 0x72 ? SHIFT_BY_DIGIT[insn.reg & 7] : undefined;
  return shift === undefined ? undefined : { op: shift, dst: insn.rm, src: insn.rm, imm };
}

/** MOVD xmm, m32 (66 0F 6E with a memory operand, no REX.W): its destination, or -1. */
export function vectorLoadTarget(insn: Instruction): number {
  const movd = insn.vex === 0 && insn.map === 1 && insn.opcode === 0x6e && insn.opsizePrefix && insn.rep === 0 && !insn.lock &&
    insn.hasModrm && insn.mod !== 3 && (insn.rex & 8) === 0;
  return movd ? insn.reg : -1;
}
