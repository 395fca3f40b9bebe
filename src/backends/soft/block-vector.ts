/**
 * Straight-line JS for the XMM forms of vector-forms.ts (the vector code of a Linux boot is
 * BLAKE2s: PADDD, PXOR, POR, PUNPCKLDQ, PUNPCKLQDQ, PSHUFD, PSRLD/PSLLD by an immediate, MOVDQA,
 * MOVD from memory) in a compiled block, in place of a call to the instruction's closure, which
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
import { vectorOp, type LaneOp, type VectorOp } from './vector-forms.js';

/** The lane helpers by name: generated code calls them by these names where a body cannot go in. */
export const VECTOR_HELPERS = {
  addLanes32, andLanes32, andnLanes32, orLanes32, xorLanes32, srlLanes32, sllLanes32, sraLanes32, shuffleLanes32, unpackLow32, unpackLow64, moveLanes32,
  zeroExtendLanes32,
};
type LaneHelper = keyof typeof VECTOR_HELPERS;

const INLINED = Object.fromEntries(Object.entries(VECTOR_HELPERS).map(([name, fn]) => [name, parseHelper(fn, new Set())])) as Record<LaneHelper, InlinableHelper | undefined>;

/** Each op's arguments after the destination: the source, the lane count, the immediate. */
const ARGS: Readonly<Record<LaneOp, (v: VectorOp) => string[]>> = {
  addLanes32: () => ['$xs', '4'], andLanes32: () => ['$xs', '4'], andnLanes32: () => ['$xs', '4'], orLanes32: () => ['$xs', '4'],
  xorLanes32: () => ['$xs', '4'], unpackLow32: () => ['$xs', '4'], unpackLow64: () => ['$xs'], moveLanes32: () => ['$xs'],
  shuffleLanes32: (v) => ['$xs', `${v.imm}`], srlLanes32: (v) => ['4', `${v.imm}`], sraLanes32: (v) => ['4', `${v.imm}`], sllLanes32: (v) => ['4', `${v.imm}`],
};

/**
 * The inlined form of insn (vector-forms.ts vectorOp), ending in `decline` where the form would
 * fault; undefined when it is not one of these forms.
 */
export function vectorForm(insn: Instruction, decline: string): string | undefined {
  const v = vectorOp(insn);
  if (v === undefined) return undefined;
  return `{ if (${AVAILABLE}) { const $xd = cpu.xmm32[${v.dst}], $xs = cpu.xmm32[${v.src}]; ${inlineCall(INLINED[v.op], v.op, ['$xd', ...ARGS[v.op](v)], () => '')} } else { ${decline} } }`;
}

/** Whether the XMM forms may run: CR0.EM and CR0.TS clear, CR4.OSFXSR set (context.ts checkAvailable). */
const AVAILABLE = `(cpu.cr0 & ${CR0_EM | CR0_TS}) === 0 && (cpu.cr4 & ${CR4_OSFXSR}) !== 0`;

/**
 * MOVD xmm, m32's statements (vector-forms.ts vectorLoadTarget) around load (statements that
 * declare v, the 32-bit value read, or decline): the value into the register's low lane, the
 * rest zeroed; a decline first where the form would fault before its access (#UD, #NM).
 */
export function vectorLoad(dst: number, load: string, decline: string): string {
  const put = inlineCall(INLINED.zeroExtendLanes32, 'zeroExtendLanes32', [`cpu.xmm32[${dst}]`, 'v', '0'], () => '');
  return `if (${AVAILABLE}) { ${load} ${put} } else { ${decline} }`;
}
