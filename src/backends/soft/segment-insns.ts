/**
 * Segment-register instructions: MOV to/from Sreg, PUSH/POP Sreg, LDS/LES/LSS/LFS/LGS.
 * Loads of SS start an interrupt shadow (the next instruction runs before any interrupt).
 */
import type { Instruction } from '../../x86/instruction.js';
import type { SoftCpu } from './cpu.js';
import { loadDataSegment, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS } from './segmentation.js';
import { getRsp, setRsp, stackOffset } from './stack.js';
import { advance, memAddress, readGpr, rmRead, rmWrite, effectiveAddress, ud, writeGpr } from './system-common.js';
import { ZF } from '../../x86/exec/context.js';
import { RFLAGS_VM } from './state.js';

function segOperand(insn: Instruction, which: number): number {
  const op = insn.operands[which];
  if (op && op.kind === 'seg') return op.seg;
  return insn.reg;
}

/** MOV r/m, Sreg: registers get the zero-extended selector at operand size, memory 16 bits. */
export function movFromSreg(cpu: SoftCpu, insn: Instruction): void {
  const seg = segOperand(insn, 1);
  if (seg > 5) throw ud(insn, `segment register ${seg} does not exist`);
  const sel = cpu.segSel[seg]! & 0xffff;
  if (insn.mod === 3) writeGpr(cpu, insn.rm, insn.opSize === 1 ? 2 : insn.opSize, insn.rex, sel, 0);
  else rmWrite(cpu, insn, 2, effectiveAddress(cpu, insn), sel, 0);
  advance(cpu, insn);
}

export function movToSreg(cpu: SoftCpu, insn: Instruction): void {
  const seg = segOperand(insn, 0);
  if (seg > 5 || seg === SEG_CS) throw ud(insn, `cannot load segment register ${seg} with MOV`);
  const sel = rmRead(cpu, insn, 2, insn.mod === 3 ? 0 : effectiveAddress(cpu, insn)) & 0xffff;
  loadDataSegment(cpu, seg, sel);
  advance(cpu, insn);
  if (seg === SEG_SS) cpu.intShadow = true;
}

/** The segment register named by PUSH/POP Sreg opcodes. */
const SREG_BY_OPCODE: Record<number, number> = {
  0x06: SEG_ES, 0x07: SEG_ES, 0x0e: SEG_CS, 0x16: SEG_SS, 0x17: SEG_SS, 0x1e: SEG_DS, 0x1f: SEG_DS,
  0x1a0: SEG_FS, 0x1a1: SEG_FS, 0x1a8: SEG_GS, 0x1a9: SEG_GS,
};
function sregOf(insn: Instruction): number {
  const s = SREG_BY_OPCODE[(insn.map << 8) | insn.opcode];
  if (s === undefined) throw ud(insn, 'not a segment push/pop');
  return s;
}

export function pushSreg(cpu: SoftCpu, insn: Instruction): void {
  const size = insn.opSize === 1 ? 2 : (insn.opSize as 2 | 4 | 8);
  // Recent Intel and AMD CPUs store only the 16-bit selector, leaving the rest of the slot as it was.
  const sp = stackOffset(cpu, getRsp(cpu), -size);
  cpu.write(SEG_SS, sp, 2, cpu.segSel[sregOf(insn)]! & 0xffff, 0);
  setRsp(cpu, sp);
  advance(cpu, insn);
}

export function popSreg(cpu: SoftCpu, insn: Instruction): void {
  const seg = sregOf(insn);
  const size = insn.opSize === 1 ? 2 : (insn.opSize as 2 | 4 | 8);
  const sp = getRsp(cpu);
  const sel = cpu.read(SEG_SS, sp, 2);
  loadDataSegment(cpu, seg, sel);
  // SS may have changed size: RSP moves in the old stack's width, computed before the load.
  setRsp(cpu, stackOffset(cpu, sp, size));
  advance(cpu, insn);
  if (seg === SEG_SS) cpu.intShadow = true;
}

/** LDS/LES/LSS/LFS/LGS: a far pointer (offset at operand size, then the selector). */
const FAR_LOAD_SEG: Record<string, number> = { lds: SEG_DS, les: SEG_ES, lss: SEG_SS, lfs: SEG_FS, lgs: SEG_GS };
export function loadFarPointer(cpu: SoftCpu, insn: Instruction): void {
  const seg = FAR_LOAD_SEG[insn.mnemonic];
  if (seg === undefined) throw ud(insn, 'not a far-pointer load');
  const a = memAddress(cpu, insn);
  const size = insn.opSize === 1 ? 2 : insn.opSize;
  const off = cpu.read(insn.mem!.seg, a, size as 2 | 4 | 8);
  const offHi = size === 8 ? cpu.memHi : 0;
  const sel = cpu.read(insn.mem!.seg, a + size, 2);
  loadDataSegment(cpu, seg, sel);
  writeGpr(cpu, insn.reg, size, insn.rex, off, offHi);
  advance(cpu, insn);
  if (seg === SEG_SS) cpu.intShadow = true;
}

/** ARPL r/m16, r16 (protected mode, not 64-bit): raises the destination selector's RPL. */
export function arpl(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.cr0 & 1) || (cpu.flags & RFLAGS_VM)) throw ud(insn, 'not available in real or virtual-8086 mode');
  const addr = insn.mod === 3 ? 0 : effectiveAddress(cpu, insn);
  const dst = rmRead(cpu, insn, 2, addr) & 0xffff;
  const src = readGpr(cpu, insn.reg, 2, insn.rex) & 0xffff;
  if ((dst & 3) < (src & 3)) {
    rmWrite(cpu, insn, 2, addr, (dst & ~3) | (src & 3), 0);
    cpu.flags |= ZF;
  } else {
    cpu.flags &= ~ZF;
  }
  advance(cpu, insn);
}
