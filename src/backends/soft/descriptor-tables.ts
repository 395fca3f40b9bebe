/**
 * Descriptor-table instructions: LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, and the descriptor
 * probes LAR/LSL/VERR/VERW.
 */
import type { Instruction } from '../../x86/instruction.js';
import { X86Fault, ZF } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { readDescriptor, readSystemBaseHigh, setSegment, setNullSegment, type Descriptor } from './segmentation.js';
import { ATTR_P, ATTR_S, SLOT_LDTR, SLOT_TR } from './state.js';
import {
  advance, gp0, memAddress, readRm16, requireCpl0, requireProtected, rmWrite, effectiveAddress, writeGpr,
} from './system-common.js';

const TWO32 = 4294967296;

/** LGDT/LIDT: limit (16 bits) then base (24 bits with a 16-bit operand, 32, or 64 in long mode). */
function loadTable(cpu: SoftCpu, insn: Instruction, idt: boolean): void {
  requireCpl0(cpu, insn);
  const a = memAddress(cpu, insn);
  const seg = insn.mem!.seg;
  const limit = cpu.read(seg, a, 2);
  let base: number;
  if (cpu.mode === 64) {
    const lo = cpu.read(seg, a + 2, 8);
    base = cpu.memHi * TWO32 + (lo >>> 0);
    if (base >= 0x800000000000 || base < -0x800000000000) throw gp0('LGDT/LIDT with a non-canonical base');
  } else {
    base = cpu.read(seg, a + 2, 4) >>> 0;
    if (insn.opSize === 2) base &= 0xffffff;
  }
  if (idt) { cpu.idtBase = base; cpu.idtLimit = limit; } else { cpu.gdtBase = base; cpu.gdtLimit = limit; }
  advance(cpu, insn);
}

function storeTable(cpu: SoftCpu, insn: Instruction, idt: boolean): void {
  const a = memAddress(cpu, insn);
  const seg = insn.mem!.seg;
  const base = idt ? cpu.idtBase : cpu.gdtBase;
  const limit = idt ? cpu.idtLimit : cpu.gdtLimit;
  if (cpu.mode === 64) {
    const hi = Math.floor(base / TWO32);
    // Check both writes can happen before doing either.
    cpu.write(seg, a + 2, 8, base - hi * TWO32, hi);
  } else {
    cpu.write(seg, a + 2, 4, base, 0);
  }
  cpu.write(seg, a, 2, limit, 0);
  advance(cpu, insn);
}

export const lgdt = (cpu: SoftCpu, insn: Instruction): void => loadTable(cpu, insn, false);
export const lidt = (cpu: SoftCpu, insn: Instruction): void => loadTable(cpu, insn, true);
export const sgdt = (cpu: SoftCpu, insn: Instruction): void => storeTable(cpu, insn, false);
export const sidt = (cpu: SoftCpu, insn: Instruction): void => storeTable(cpu, insn, true);

/** A system descriptor (LDT/TSS) from the GDT, with the 64-bit base in long mode. */
function readSystemDescriptor(cpu: SoftCpu, sel: number, what: string): Descriptor {
  if (sel & 4) throw new X86Fault(13, sel & 0xfffc, `${what} selector 0x${sel.toString(16)} points into the LDT`);
  const d = readDescriptor(cpu, sel);
  if (cpu.longMode) {
    if ((sel & 0xfff8) + 15 > cpu.gdtLimit) throw new X86Fault(13, sel & 0xfffc, `${what} descriptor 0x${sel.toString(16)} beyond GDT limit`);
    d.base += (readSystemBaseHigh(cpu, d) >>> 0) * TWO32;
    if (d.base >= 0x800000000000) d.base -= 2 ** 64;
  }
  return d;
}

export function lldt(cpu: SoftCpu, insn: Instruction): void {
  requireProtected(cpu, insn);
  requireCpl0(cpu, insn);
  const sel = readRm16(cpu, insn);
  if ((sel & 0xfffc) === 0) {
    setNullSegment(cpu, SLOT_LDTR, sel);
    advance(cpu, insn);
    return;
  }
  const d = readSystemDescriptor(cpu, sel, 'LLDT');
  if ((d.attr & ATTR_S) || (d.attr & 0xf) !== 2) throw new X86Fault(13, sel & 0xfffc, `LLDT: 0x${sel.toString(16)} is not an LDT descriptor`);
  if (!(d.attr & ATTR_P)) throw new X86Fault(11, sel & 0xfffc, `LLDT: LDT 0x${sel.toString(16)} not present`);
  setSegment(cpu, SLOT_LDTR, sel, d);
  advance(cpu, insn);
}

export function ltr(cpu: SoftCpu, insn: Instruction): void {
  requireProtected(cpu, insn);
  requireCpl0(cpu, insn);
  const sel = readRm16(cpu, insn);
  if ((sel & 0xfffc) === 0) throw gp0('LTR with a null selector');
  const d = readSystemDescriptor(cpu, sel, 'LTR');
  const type = d.attr & 0xf;
  const available = cpu.longMode ? type === 9 : type === 9 || type === 1;
  if ((d.attr & ATTR_S) || !available) throw new X86Fault(13, sel & 0xfffc, `LTR: 0x${sel.toString(16)} is not an available TSS (type ${type})`);
  if (!(d.attr & ATTR_P)) throw new X86Fault(11, sel & 0xfffc, `LTR: TSS 0x${sel.toString(16)} not present`);
  // Mark it busy in the GDT, as the hardware does.
  cpu.writeSys(d.at + 5, 1, ((d.hi >>> 8) & 0xff) | 2, 0);
  d.attr |= 2;
  setSegment(cpu, SLOT_TR, sel, d);
  advance(cpu, insn);
}

function storeSelector(cpu: SoftCpu, insn: Instruction, sel: number): void {
  requireProtected(cpu, insn);
  if (insn.mod === 3) writeGpr(cpu, insn.rm, insn.opSize === 1 ? 2 : insn.opSize, insn.rex, sel, 0);
  else rmWrite(cpu, insn, 2, effectiveAddress(cpu, insn), sel, 0);
  advance(cpu, insn);
}
export const sldt = (cpu: SoftCpu, insn: Instruction): void => storeSelector(cpu, insn, cpu.segSel[SLOT_LDTR]!);
export const str = (cpu: SoftCpu, insn: Instruction): void => storeSelector(cpu, insn, cpu.segSel[SLOT_TR]!);

/**
 * The descriptor for LAR/LSL/VERR/VERW if it is visible at the current CPL and RPL, else
 * undefined (the instruction then clears ZF instead of faulting).
 */
function probe(cpu: SoftCpu, sel: number, systemOk: (type: number) => boolean): Descriptor | undefined {
  if ((sel & 0xfffc) === 0) return undefined;
  let d: Descriptor;
  try {
    d = readDescriptor(cpu, sel);
  } catch (e) {
    if (e instanceof X86Fault && e.vector === 13 && e.errorCode === (sel & 0xfffc)) return undefined;
    throw e;
  }
  const dpl = (d.attr >>> 5) & 3;
  const type = d.attr & 0xf;
  if (!(d.attr & ATTR_S)) return systemOk(type) && dpl >= cpu.cpl && dpl >= (sel & 3) ? d : undefined;
  const conformingCode = (type & 0xc) === 0xc;
  if (!conformingCode && (dpl < cpu.cpl || dpl < (sel & 3))) return undefined;
  return d;
}

const LAR_SYSTEM = (t: number): boolean => [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(t);
const LSL_SYSTEM = (t: number): boolean => [1, 2, 3, 9, 0xb].includes(t);

function setZf(cpu: SoftCpu, on: boolean): void {
  cpu.flags = on ? cpu.flags | ZF : cpu.flags & ~ZF;
}

export function lar(cpu: SoftCpu, insn: Instruction): void {
  requireProtected(cpu, insn);
  const d = probe(cpu, readRm16(cpu, insn), LAR_SYSTEM);
  if (d) writeGpr(cpu, insn.reg, insn.opSize, insn.rex, d.hi & 0x00f0ff00, 0);
  setZf(cpu, d !== undefined);
  advance(cpu, insn);
}

export function lsl(cpu: SoftCpu, insn: Instruction): void {
  requireProtected(cpu, insn);
  const d = probe(cpu, readRm16(cpu, insn), LSL_SYSTEM);
  if (d) writeGpr(cpu, insn.reg, insn.opSize, insn.rex, d.limit | 0, 0);
  setZf(cpu, d !== undefined);
  advance(cpu, insn);
}

function verify(cpu: SoftCpu, insn: Instruction, write: boolean): void {
  requireProtected(cpu, insn);
  const d = probe(cpu, readRm16(cpu, insn), () => false);
  const type = d ? d.attr & 0xf : 0;
  const ok = d !== undefined && (d.attr & ATTR_S) !== 0 &&
    (write ? !(type & 8) && (type & 2) !== 0 : !(type & 8) || (type & 2) !== 0);
  setZf(cpu, ok);
  advance(cpu, insn);
}
export const verr = (cpu: SoftCpu, insn: Instruction): void => verify(cpu, insn, false);
export const verw = (cpu: SoftCpu, insn: Instruction): void => verify(cpu, insn, true);

