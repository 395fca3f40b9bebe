/**
 * Event delivery: exceptions, software interrupts (INT n/INT3/INTO), external interrupts and
 * NMIs, through the IVT (real mode), the 32-bit IDT (protected mode) or the 64-bit IDT (long
 * mode), with privilege changes through the TSS, IST stacks, error codes, double faults and
 * triple faults (-> 'shutdown' exit). The frame is written before any register changes, so a
 * fault while delivering leaves the interrupted state intact for the double-fault logic.
 *
 * Delivery that touches guest-physical memory without RAM (IVT/IDT, GDT/LDT, TSS or the stack
 * in MMIO space) is never a 'memory' exit: the VMM cannot emulate the CPU's own accesses, and the
 * event would be lost. It is a #GP of the delivery instead, escalating as any delivery fault (so
 * usually #DF, then a triple fault: 'shutdown', which is what KVM here reports).
 */
import { IF, RIP_LO, TF, X86Fault } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import {
  checkStackSegment, readDescriptor, setCodeSegment, setRealSegment, setStackSegment, type Descriptor,
} from './segmentation.js';
import { ExitSignal, MemoryExitSignal } from './signals.js';
import { push } from './stack.js';
import { ATTR_DEF, ATTR_L, ATTR_P, ATTR_S, CR0_PE, RFLAGS_AC, RFLAGS_NT, RFLAGS_RF, RFLAGS_VM, SLOT_TR } from './state.js';

/** Where an event comes from: decides the EXT bit, the gate-DPL check and error codes. */
export const SRC_EXCEPTION = 0, SRC_SOFTWARE = 1, SRC_EXTERNAL = 2;
export type EventSource = 0 | 1 | 2;

const TWO32 = 4294967296;
const SEG_CS = 1, SEG_SS = 2;
const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

/** Vectors whose exceptions push an error code. */
export const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21]);

/**
 * Delivers an event, escalating to #DF when delivery itself faults as the SDM's table says,
 * and to a triple fault ('shutdown' exit) when delivering #DF faults.
 */
export function deliverEvent(cpu: SoftCpu, vector: number, errorCode: number | undefined, source: EventSource,
  noEscalate = false): void {
  if (noEscalate) {
    deliverFromRam(cpu, vector, errorCode, source);
    cpu.halted = false;
    return;
  }
  let v = vector, ec = errorCode, src = source;
  for (;;) {
    try {
      deliverFromRam(cpu, v, ec, src);
      cpu.halted = false;
      return;
    } catch (e) {
      if (!(e instanceof X86Fault)) throw e;
      if (v === 8) throw new ExitSignal({ reason: 'shutdown' });
      const first = v, second = e.vector;
      const firstPf = first === 14, secondBad = CONTRIBUTORY.has(second) || second === 14;
      if ((CONTRIBUTORY.has(first) && CONTRIBUTORY.has(second)) || (firstPf && secondBad)) {
        v = 8; ec = 0;
      } else {
        v = second; ec = e.errorCode;
      }
      src = SRC_EXCEPTION;
    }
  }
}

/** deliverOnce, with an access outside RAM turned into a #GP of the delivery (see the header). */
function deliverFromRam(cpu: SoftCpu, vector: number, ec: number | undefined, source: EventSource): void {
  try {
    deliverOnce(cpu, vector, ec, source);
  } catch (e) {
    if (!(e instanceof MemoryExitSignal)) throw e;
    throw new X86Fault(13, 0, `delivering vector ${vector} ${e.write ? 'writes' : 'reads'} guest-physical 0x${e.gpa.toString(16)}, which is not RAM`);
  }
}

function deliverOnce(cpu: SoftCpu, vector: number, ec: number | undefined, source: EventSource): void {
  if (!(cpu.cr0 & CR0_PE)) return deliverReal(cpu, vector);
  if (cpu.flags & RFLAGS_VM) {
    throw new ExitSignal({ reason: 'invalid', detail: `soft: interrupt ${vector} from virtual-8086 mode is not supported` });
  }
  if (cpu.longMode) return deliverLong(cpu, vector, ec, source);
  return deliverProtected(cpu, vector, ec, source);
}

function deliverReal(cpu: SoftCpu, vector: number): void {
  if (vector * 4 + 3 > cpu.idtLimit) throw new X86Fault(13, 0, `vector ${vector} beyond IVT limit`);
  const ip = cpu.readSys(cpu.idtBase + vector * 4, 2);
  const cs = cpu.readSys(cpu.idtBase + vector * 4 + 2, 2);
  push(cpu, 2, cpu.flags & 0xffff);
  push(cpu, 2, cpu.segSel[SEG_CS]!);
  push(cpu, 2, cpu.regs[RIP_LO]! & 0xffff);
  cpu.flags &= ~(IF | TF | RFLAGS_AC);
  setRealSegment(cpu, SEG_CS, cs);
  cpu.regs[RIP_LO] = ip;
  cpu.regs[RIP_LO + 1] = 0;
  cpu.updateMode();
}

interface Gate { type: number; dpl: number; sel: number; offset: number; ist: number }

function readGate(cpu: SoftCpu, vector: number, source: EventSource, long: boolean): Gate {
  const ext = source === SRC_EXTERNAL ? 1 : 0;
  const idtEc = vector * 8 + 2 + ext;
  const size = long ? 16 : 8;
  if (vector * size + size - 1 > cpu.idtLimit) throw new X86Fault(13, idtEc, `vector ${vector} beyond IDT limit 0x${cpu.idtLimit.toString(16)}`);
  const at = cpu.idtBase + vector * size;
  const lo = cpu.readSys(at, 4) >>> 0;
  const hi = cpu.readSys(at + 4, 4) >>> 0;
  const type = (hi >>> 8) & 0x1f;
  const dpl = (hi >>> 13) & 3;
  const valid = long ? type === 0xe || type === 0xf : type === 6 || type === 7 || type === 0xe || type === 0xf;
  if (!long && type === 5) {
    throw new ExitSignal({ reason: 'invalid', detail: `soft: task gate for vector ${vector} (hardware task switching) is not supported` });
  }
  if (!valid) throw new X86Fault(13, idtEc, `IDT entry ${vector} has gate type ${type}`);
  if (source === SRC_SOFTWARE && dpl < cpu.cpl) throw new X86Fault(13, idtEc, `INT ${vector}: gate dpl ${dpl} < cpl ${cpu.cpl}`);
  if (!(hi & 0x8000)) throw new X86Fault(11, idtEc, `IDT entry ${vector} not present`);
  let offset = ((lo & 0xffff) | (type & 8 ? hi & 0xffff0000 : 0)) >>> 0;
  if (long) offset += (cpu.readSys(at + 8, 4) | 0) * TWO32;
  return { type, dpl, sel: lo >>> 16, offset, ist: long ? hi & 7 : 0 };
}

/** The gate's code segment: checked for delivery (#GP(sel+ext)/#NP(sel+ext)). Returns the new CPL. */
function gateTarget(cpu: SoftCpu, gate: Gate, source: EventSource): { d: Descriptor; cpl: number } {
  const ext = source === SRC_EXTERNAL ? 1 : 0;
  if ((gate.sel & 0xfffc) === 0) throw new X86Fault(13, ext, 'interrupt gate with a null selector');
  const d = readDescriptor(cpu, gate.sel);
  const dpl = (d.attr >>> 5) & 3;
  if (!(d.attr & ATTR_S) || !(d.attr & 8) || dpl > cpu.cpl) {
    throw new X86Fault(13, (gate.sel & 0xfffc) | ext, `interrupt gate target 0x${gate.sel.toString(16)} is not a usable code segment`);
  }
  if (!(d.attr & ATTR_P)) throw new X86Fault(11, (gate.sel & 0xfffc) | ext, `interrupt gate target 0x${gate.sel.toString(16)} not present`);
  const newCpl = d.attr & 4 ? cpu.cpl : dpl;
  return { d, cpl: newCpl };
}

function errorCodeOf(ec: number | undefined, source: EventSource): number | undefined {
  if (source === SRC_SOFTWARE) return undefined;
  return ec;
}

function deliverProtected(cpu: SoftCpu, vector: number, ecIn: number | undefined, source: EventSource): void {
  const gate = readGate(cpu, vector, source, false);
  const { d, cpl: newCpl } = gateTarget(cpu, gate, source);
  const size = gate.type & 8 ? 4 : 2;
  const ec = errorCodeOf(ecIn, source);
  const oldFlags = cpu.flags, oldCs = cpu.segSel[SEG_CS]!, oldEip = cpu.regs[RIP_LO]! >>> 0;
  const frame: number[] = [];
  let ssSel = cpu.segSel[SEG_SS]!, ssDesc: Descriptor | undefined;
  let sp: number, ssBase: number, stack32: boolean;
  if (newCpl < cpu.cpl) {
    const tss = readTssStack32(cpu, newCpl);
    ssSel = tss.ss;
    ssDesc = checkStackSegment(cpu, ssSel, newCpl, 10, false, source === SRC_EXTERNAL ? 1 : 0)!;
    sp = tss.sp;
    ssBase = ssDesc.base;
    stack32 = (ssDesc.attr & ATTR_DEF) !== 0;
    frame.push(cpu.segSel[SEG_SS]!, cpu.regs[8]! >>> 0);
  } else {
    sp = cpu.regs[8]! >>> 0;
    ssBase = cpu.segBase[SEG_SS]!;
    stack32 = cpu.stackSize === 4;
  }
  frame.push(oldFlags, oldCs, oldEip);
  if (ec !== undefined) frame.push(ec);
  if (gate.offset > d.limit) throw new X86Fault(13, 0, `interrupt handler offset 0x${gate.offset.toString(16)} beyond CS limit`);
  for (const v of frame) {
    sp = stack32 ? (sp - size) >>> 0 : (sp - size) & 0xffff;
    cpu.writeSys((ssBase + sp) >>> 0, size, v, 0);
  }
  // Commit.
  if (ssDesc) setStackSegment(cpu, ssSel, ssDesc, newCpl);
  if (stack32) { cpu.regs[8] = sp; } else { cpu.regs[8] = (cpu.regs[8]! & ~0xffff) | sp; }
  setCodeSegment(cpu, gate.sel, d, newCpl);
  cpu.regs[RIP_LO] = gate.offset;
  cpu.regs[RIP_LO + 1] = 0;
  cpu.flags &= ~(TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | (gate.type & 1 ? 0 : IF));
  cpu.updateMode();
}

function readTssStack32(cpu: SoftCpu, cpl: number): { ss: number; sp: number } {
  const type = cpu.segAttr[SLOT_TR]! & 0xf;
  const base = cpu.segBase[SLOT_TR]!;
  if (type === 9 || type === 0xb) {
    return { sp: cpu.readSys(base + 4 + cpl * 8, 4) >>> 0, ss: cpu.readSys(base + 8 + cpl * 8, 2) };
  }
  return { sp: cpu.readSys(base + 2 + cpl * 4, 2), ss: cpu.readSys(base + 4 + cpl * 4, 2) };
}

function deliverLong(cpu: SoftCpu, vector: number, ecIn: number | undefined, source: EventSource): void {
  const gate = readGate(cpu, vector, source, true);
  const { d, cpl: newCpl } = gateTarget(cpu, gate, source);
  if (!(d.attr & ATTR_L) || (d.attr & ATTR_DEF)) {
    throw new X86Fault(13, gate.sel & 0xfffc, `interrupt gate target 0x${gate.sel.toString(16)} is not 64-bit code`);
  }
  const ec = errorCodeOf(ecIn, source);
  const trBase = cpu.segBase[SLOT_TR]!;
  let rsp: number;
  if (gate.ist) rsp = readSys64(cpu, trBase + 0x24 + (gate.ist - 1) * 8);
  else if (newCpl < cpu.cpl) rsp = readSys64(cpu, trBase + 4 + newCpl * 8);
  else rsp = cpu.mode === 64 ? cpu.reg64(4) : cpu.regs[8]! >>> 0;
  rsp = Math.floor(rsp / 16) * 16;
  const oldRsp = cpu.mode === 64 ? cpu.reg64(4) : cpu.regs[8]! >>> 0;
  const frame = [cpu.segSel[SEG_SS]!, oldRsp, cpu.flags, cpu.segSel[SEG_CS]!, cpu.rip];
  if (ec !== undefined) frame.push(ec);
  for (const v of frame) {
    rsp -= 8;
    const hi = Math.floor(v / TWO32);
    cpu.writeSys(rsp, 8, v - hi * TWO32, hi);
  }
  // Commit.
  if (newCpl < cpu.cpl) {
    // SS becomes a null selector with RPL = new CPL (64-bit stacks need no descriptor).
    setStackSegment(cpu, newCpl, null, newCpl);
  }
  setCodeSegment(cpu, gate.sel, d, newCpl);
  cpu.setReg64(4, rsp);
  cpu.setRip(gate.offset);
  cpu.flags &= ~(TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | (gate.type & 1 ? 0 : IF));
  cpu.updateMode();
}

function readSys64(cpu: SoftCpu, lin: number): number {
  const lo = cpu.readSys(lin, 8);
  return cpu.memHi * TWO32 + (lo >>> 0);
}
