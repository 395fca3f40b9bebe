/**
 * Straight-line JS for the commonest XMM register-to-register forms and MOVD from memory in a
 * compiled block (the
 * vector code of a Linux boot is BLAKE2s: PADDD, PXOR, POR, PUNPCKLDQ, PUNPCKLQDQ, PSHUFD,
 * PSRLD/PSLLD by an immediate, MOVDQA), in place of a call to the instruction's closure, which
 * runs the form table's generic runner (src/x86/sse/run-form.ts: operand copies in and out, a
 * call of the form's op). The text is the body of the lane helper the form's op calls
 * (src/x86/sse/lanes.ts), on the registers' 32-bit lanes in place: the operation stays written
 * once. Where the form would fault (CR0.EM or CR0.TS set, CR4.OSFXSR clear) the text declines:
 * the run loop runs the closure, which raises it.
 */
import type { Instruction } from '../../x86/instruction.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR } from '../../x86/sse/context.js';
import {
  addLanes32, andLanes32, andnLanes32, moveLanes32, orLanes32, shuffleLanes32, sllLanes32, sraLanes32, srlLanes32, unpackLow32, unpackLow64, xorLanes32,
  zeroExtendLanes32,
} from '../../x86/sse/lanes.js';
import { inlineCall, parseHelper, type InlinableHelper } from './helper-inline.js';

/** The lane helpers by name: generated code calls them by these names where a body cannot go in. */
export const VECTOR_HELPERS = {
  addLanes32, andLanes32, andnLanes32, orLanes32, xorLanes32, srlLanes32, sllLanes32, sraLanes32, shuffleLanes32, unpackLow32, unpackLow64, moveLanes32,
  zeroExtendLanes32,
};
type LaneHelper = keyof typeof VECTOR_HELPERS;

const INLINED = Object.fromEntries(Object.entries(VECTOR_HELPERS).map(([name, fn]) => [name, parseHelper(fn, new Set())])) as Record<LaneHelper, InlinableHelper | undefined>;

/** 66 0F opcode -> the helper of the two-register form (destination ModRM.reg, source ModRM.rm). */
const TWO_REGISTER: Readonly<Record<number, LaneHelper>> = {
  0xfe: 'addLanes32', 0xdb: 'andLanes32', 0xdf: 'andnLanes32', 0xeb: 'orLanes32', 0xef: 'xorLanes32', 0x62: 'unpackLow32',
};
/** 66 0F 72 /digit ib: the shifts of ModRM.rm by the immediate. */
const SHIFT_BY_DIGIT: Readonly<Record<number, LaneHelper>> = { 2: 'srlLanes32', 4: 'sraLanes32', 6: 'sllLanes32' };

/**
 * The inlined form of insn, ending in `decline` where the form would fault; undefined when it is
 * not one of these forms (register operands only, the 66 prefix alone, no LOCK, no VEX).
 */
export function vectorForm(insn: Instruction, decline: string): string | undefined {
  if (insn.vex !== 0 || insn.map !== 1 || !insn.opsizePrefix || insn.rep !== 0 || insn.lock || !insn.hasModrm || insn.mod !== 3) return undefined;
  const op = insn.opcode, d = insn.reg, s = insn.rm;
  let call: [LaneHelper, string[]] | undefined;
  const two = TWO_REGISTER[op];
  if (two !== undefined) call = [two, ['$xd', '$xs', '4']];
  else if (op === 0x6c) call = ['unpackLow64', ['$xd', '$xs']];
  else if (op === 0x70) call = ['shuffleLanes32', ['$xd', '$xs', `${insn.imm & 0xff}`]];
  else if (op === 0x6f) call = ['moveLanes32', ['$xd', '$xs']];
  else if (op === 0x7f) call = ['moveLanes32', ['$xs', '$xd']];
  else if (op === 0x72 && SHIFT_BY_DIGIT[d & 7] !== undefined) call = [SHIFT_BY_DIGIT[d & 7]!, ['$xs', '4', `${insn.imm & 0xff}`]];
  if (call === undefined) return undefined;
  const [name, args] = call;
  return `{ if (${AVAILABLE}) { const $xd = cpu.xmm32[${d}], $xs = cpu.xmm32[${s}]; ${inlineCall(INLINED[name], name, args, () => '')} } else { ${decline} } }`;
}

/** Whether the XMM forms may run: CR0.EM and CR0.TS clear, CR4.OSFXSR set (context.ts checkAvailable). */
const AVAILABLE = `(cpu.cr0 & ${CR0_EM | CR0_TS}) === 0 && (cpu.cr4 & ${CR4_OSFXSR}) !== 0`;

/** MOVD xmm, m32 (66 0F 6E with a memory operand, no REX.W): vectorLoad's form. */
export function isVectorLoad(insn: Instruction): boolean {
  return insn.vex === 0 && insn.map === 1 && insn.opcode === 0x6e && insn.opsizePrefix && insn.rep === 0 && !insn.lock &&
    insn.hasModrm && insn.mod !== 3 && (insn.rex & 8) === 0;
}

/**
 * MOVD xmm, m32's statements around load (statements that declare v, the 32-bit value read, or
 * decline): the value into the register's low lane, the rest zeroed; a decline first where the
 * form would fault before its access (#UD, #NM).
 */
export function vectorLoad(insn: Instruction, load: string, decline: string): string {
  const put = inlineCall(INLINED.zeroExtendLanes32, 'zeroExtendLanes32', [`cpu.xmm32[${insn.reg}]`, 'v', '0'], () => '');
  return `if (${AVAILABLE}) { ${load} ${put} } else { ${decline} }`;
}
