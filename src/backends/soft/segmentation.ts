/**
 * Segment descriptors: reading them from the GDT/LDT and loading segment registers with the
 * checks the hardware makes (type, privilege, presence), raising #GP/#SS/#NP/#TS with the
 * selector error code. Real mode and virtual-8086 loads just set base = selector * 16.
 */
import { X86Fault } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { ATTR_DEF, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0_PE, RFLAGS_VM, SLOT_LDTR } from './state.js';

export const SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;

/** A descriptor as read from a table: raw dwords plus where it lives (for the accessed bit). */
export interface Descriptor {
  lo: number;
  hi: number;
  /** Linear address of the descriptor. */
  at: number;
  base: number;
  limit: number;
  attr: number;
}

export function decodeDescriptor(lo: number, hi: number, at: number): Descriptor {
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  const attr = (hi >>> 8) & 0xf0ff;
  if (attr & ATTR_G) limit = ((limit << 12) | 0xfff) >>> 0;
  return { lo, hi, at, base, limit, attr };
}

export function inRealOrV86(cpu: SoftCpu): boolean {
  return !(cpu.cr0 & CR0_PE) || (cpu.flags & RFLAGS_VM) !== 0;
}

/**
 * Reads the descriptor for sel (not null). vector/ec: the fault raised when the selector is
 * outside its table (#GP(sel) for most loads, #TS for task-state ones).
 */
export function readDescriptor(cpu: SoftCpu, sel: number, vector = 13): Descriptor {
  const index = sel & 0xfff8;
  let tableBase: number, tableLimit: number;
  if (sel & 4) {
    if (!(cpu.segAttr[SLOT_LDTR]! & ATTR_P)) throw new X86Fault(vector, sel & 0xfffc, `selector 0x${sel.toString(16)} refers to a null LDT`);
    tableBase = cpu.segBase[SLOT_LDTR]!;
    tableLimit = cpu.segLimit[SLOT_LDTR]!;
  } else {
    tableBase = cpu.gdtBase;
    tableLimit = cpu.gdtLimit;
  }
  if (index + 7 > tableLimit) {
    throw new X86Fault(vector, sel & 0xfffc, `selector 0x${sel.toString(16)} beyond ${sel & 4 ? 'LDT' : 'GDT'} limit 0x${tableLimit.toString(16)}`);
  }
  const at = tableBase + index;
  const lo = cpu.readSys(at, 4) >>> 0;
  const hi = cpu.readSys(at + 4, 4) >>> 0;
  return decodeDescriptor(lo, hi, at);
}

/** The high 32 bits of a 16-byte system descriptor's base (long mode LDT/TSS/gates). */
export function readSystemBaseHigh(cpu: SoftCpu, d: Descriptor): number {
  return cpu.readSys(d.at + 8, 4);
}

/** Sets the accessed bit in a code/data descriptor in memory, as the hardware does on load. */
export function markAccessed(cpu: SoftCpu, d: Descriptor): void {
  if (!(d.hi & 0x100)) cpu.writeSys(d.at + 5, 1, ((d.hi >>> 8) & 0xff) | 1, 0);
  d.attr |= 1;
}

/** Puts a descriptor into a segment slot. */
export function setSegment(cpu: SoftCpu, slot: number, sel: number, d: Descriptor): void {
  cpu.segSel[slot] = sel;
  cpu.segBase[slot] = d.base;
  cpu.segLimit[slot] = d.limit;
  cpu.segAttr[slot] = d.attr;
  cpu.refreshSegments();
}

/** A null selector in a data segment register: loads fine, faults on use. */
export function setNullSegment(cpu: SoftCpu, slot: number, sel: number): void {
  cpu.segSel[slot] = sel;
  cpu.segBase[slot] = 0;
  cpu.segLimit[slot] = 0;
  cpu.segAttr[slot] = 0;
  cpu.refreshSegments();
}

/** Real-mode / virtual-8086 load: base = selector << 4, limit and attributes kept (as hardware). */
export function setRealSegment(cpu: SoftCpu, slot: number, sel: number): void {
  cpu.segSel[slot] = sel & 0xffff;
  cpu.segBase[slot] = (sel & 0xffff) * 16;
  if (cpu.flags & RFLAGS_VM) {
    cpu.segLimit[slot] = 0xffff;
    cpu.segAttr[slot] = ATTR_P | ATTR_S | (3 << 5) | (slot === SEG_CS ? 0xb : 3);
  } else if (!(cpu.segAttr[slot]! & ATTR_P)) {
    cpu.segAttr[slot] = ATTR_P | ATTR_S | (slot === SEG_CS ? 0xb : 3);
  }
  cpu.refreshSegments();
}

/** MOV/POP to DS, ES, FS, GS, SS (and LDS-family): the data-segment load checks. */
export function loadDataSegment(cpu: SoftCpu, slot: number, sel: number): void {
  sel &= 0xffff;
  if (inRealOrV86(cpu)) {
    setRealSegment(cpu, slot, sel);
    if (slot === SEG_SS) cpu.updateMode();
    return;
  }
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (slot === SEG_SS) {
      // Long mode allows a null SS at CPL < 3 when RPL = CPL (64-bit code only).
      if (!(cpu.mode === 64 && cpu.cpl < 3 && rpl === cpu.cpl)) throw new X86Fault(13, 0, 'null selector loaded into SS');
      setNullSegment(cpu, slot, sel);
      cpu.segAttr[slot] = (cpu.cpl << 5) | ATTR_DEF; // stays usable: 64-bit stack
      cpu.updateMode();
      return;
    }
    setNullSegment(cpu, slot, sel);
    return;
  }
  const d = readDescriptor(cpu, sel);
  const dpl = (d.attr >>> 5) & 3;
  const type = d.attr & 0xf;
  const ec = sel & 0xfffc;
  if (!(d.attr & ATTR_S)) throw new X86Fault(13, ec, `selector 0x${sel.toString(16)} is a system descriptor`);
  if (slot === SEG_SS) {
    if (rpl !== cpu.cpl || dpl !== cpu.cpl || (type & 8) || !(type & 2)) {
      throw new X86Fault(13, ec, `selector 0x${sel.toString(16)} cannot be SS at CPL ${cpu.cpl} (type ${type}, dpl ${dpl})`);
    }
    if (!(d.attr & ATTR_P)) throw new X86Fault(12, ec, `stack segment 0x${sel.toString(16)} not present`);
  } else {
    if ((type & 0xa) === 8) throw new X86Fault(13, ec, `selector 0x${sel.toString(16)} is execute-only code`);
    const conformingCode = (type & 0xc) === 0xc;
    if (!conformingCode && (dpl < cpu.cpl || dpl < rpl)) {
      throw new X86Fault(13, ec, `selector 0x${sel.toString(16)} dpl ${dpl} < max(cpl ${cpu.cpl}, rpl ${rpl})`);
    }
    if (!(d.attr & ATTR_P)) throw new X86Fault(11, ec, `segment 0x${sel.toString(16)} not present`);
  }
  markAccessed(cpu, d);
  setSegment(cpu, slot, sel, d);
  if (slot === SEG_SS) cpu.updateMode();
}

/**
 * Checks a code-segment descriptor for a far JMP/CALL/RET/IRET target at privilege newCpl
 * (#GP(sel) for wrong type or privilege, #NP(sel) when not present).
 */
export function checkCodeSegment(d: Descriptor, sel: number, newCpl: number, why: string): void {
  const ec = sel & 0xfffc;
  const type = d.attr & 0xf;
  if (!(d.attr & ATTR_S) || !(type & 8)) throw new X86Fault(13, ec, `${why}: selector 0x${sel.toString(16)} is not a code segment`);
  const dpl = (d.attr >>> 5) & 3;
  if (type & 4 ? dpl > newCpl : dpl !== newCpl) {
    throw new X86Fault(13, ec, `${why}: code segment 0x${sel.toString(16)} dpl ${dpl} not allowed at cpl ${newCpl}`);
  }
  if ((d.attr & ATTR_L) && (d.attr & ATTR_DEF)) throw new X86Fault(13, ec, `${why}: code segment with both L and D`);
  if (!(d.attr & ATTR_P)) throw new X86Fault(11, ec, `${why}: code segment 0x${sel.toString(16)} not present`);
}

/** Loads CS (already checked) and makes cpl the current privilege level. */
export function setCodeSegment(cpu: SoftCpu, sel: number, d: Descriptor, cpl: number): void {
  markAccessed(cpu, d);
  setSegment(cpu, SEG_CS, (sel & 0xfffc) | cpl, d);
  cpu.cpl = cpl;
  cpu.updateMode();
}

/** After a return to an outer level: data segments the new CPL may not use become null. */
export function nullInaccessibleSegments(cpu: SoftCpu): void {
  for (const slot of [SEG_ES, SEG_DS, SEG_FS, SEG_GS]) {
    const attr = cpu.segAttr[slot]!;
    const dataOrNonConforming = (attr & 0xc) !== 0xc;
    if ((attr & ATTR_P) && dataOrNonConforming && ((attr >>> 5) & 3) < cpu.cpl) setNullSegment(cpu, slot, 0);
  }
}

/**
 * The checks for a stack segment taken at privilege cpl (far RET/IRET to an outer level, the
 * TSS stack of an interrupt): a present, writable data segment with RPL = DPL = cpl.
 * vector: #GP (13) for returns, #TS (10) for TSS stacks. Returns null for a null selector that
 * long mode allows (64-bit code at cpl < 3).
 */
export function checkStackSegment(cpu: SoftCpu, sel: number, cpl: number, vector: number, allowNull: boolean, ext = 0): Descriptor | null {
  if ((sel & 0xfffc) === 0) {
    if (allowNull && cpl < 3) return null;
    throw new X86Fault(vector, ext, `null stack selector at cpl ${cpl}`);
  }
  const d = readDescriptor(cpu, sel, vector);
  const type = d.attr & 0xf;
  if ((sel & 3) !== cpl || ((d.attr >>> 5) & 3) !== cpl || !(d.attr & ATTR_S) || (type & 8) || !(type & 2)) {
    throw new X86Fault(vector, (sel & 0xfffc) | ext, `stack selector 0x${sel.toString(16)} unusable at cpl ${cpl}`);
  }
  if (!(d.attr & ATTR_P)) throw new X86Fault(12, (sel & 0xfffc) | ext, `stack segment 0x${sel.toString(16)} not present`);
  return d;
}

/** Loads SS from a checked descriptor (or a long-mode null SS at cpl). */
export function setStackSegment(cpu: SoftCpu, sel: number, d: Descriptor | null, cpl: number): void {
  if (d) {
    markAccessed(cpu, d);
    setSegment(cpu, SEG_SS, sel, d);
  } else {
    setNullSegment(cpu, SEG_SS, sel);
    cpu.segAttr[SEG_SS] = (cpl << 5) | ATTR_DEF;
    cpu.refreshSegments();
  }
}
