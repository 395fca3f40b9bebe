/**
 * Far control transfers: JMP/CALL far, RET far, IRET (real, protected and long mode, with
 * returns to outer privilege levels), and the software interrupts INT n, INT3, INTO, INT1.
 * Every check and stack read happens before anything is committed, so a fault leaves the
 * instruction restartable. Call gates, task switches and virtual-8086 mode are reported as
 * 'invalid' exits naming the missing feature, never ignored.
 */
import type { Instruction } from '../../x86/instruction.js';
import { ARITH_FLAGS, DF, IF, OF, RIP_LO, TF, X86Fault } from '../../x86/exec/context.js';
import { computeNextRip, nextRipOut } from '../../x86/exec/address.js';
import type { SoftCpu } from './cpu.js';
import { deliverEvent, SRC_EXCEPTION, SRC_SOFTWARE } from './exceptions.js';
import {
  checkCodeSegment, checkStackSegment, inRealOrV86, nullInaccessibleSegments, readDescriptor,
  setCodeSegment, setRealSegment, setStackSegment, SEG_CS, SEG_SS, type Descriptor,
} from './segmentation.js';
import { ExitSignal } from './signals.js';
import { discard, getRsp, peek, setRsp, stackOffset } from './stack.js';
import {
  ATTR_L, RFLAGS_AC, RFLAGS_ID, RFLAGS_IOPL, RFLAGS_NT, RFLAGS_RF, RFLAGS_VIF, RFLAGS_VIP, RFLAGS_VM,
} from './state.js';
import { advance, gp0, iopl, memAddress, ud } from './system-common.js';

const TWO32 = 4294967296;

function opSize(insn: Instruction): 2 | 4 | 8 {
  return insn.opSize === 1 ? 2 : insn.opSize;
}

/** The far pointer of JMPF/CALLF: immediate (ptr16:16/32) or memory (m16:16/32/64). */
function farPointer(cpu: SoftCpu, insn: Instruction): { sel: number; offset: number } {
  const size = opSize(insn);
  if (insn.mod === 3 || insn.mem === null) {
    if (insn.operands.some((o) => o.kind === 'far')) {
      return { sel: insn.imm2 & 0xffff, offset: size === 2 ? insn.imm & 0xffff : insn.imm >>> 0 };
    }
    throw ud(insn, 'register operand for a far transfer');
  }
  const a = memAddress(cpu, insn);
  const lo = cpu.read(insn.mem.seg, a, size);
  const offset = size === 8 ? cpu.memHi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  const sel = cpu.read(insn.mem.seg, a + size, 2);
  return { sel, offset };
}

function unsupported(detail: string): ExitSignal {
  return new ExitSignal({ reason: 'invalid', detail: `soft: ${detail} is not supported` });
}

/** Checks a JMP/CALL far target at the current CPL; returns its descriptor (protected mode). */
function checkFarTarget(cpu: SoftCpu, sel: number, offset: number, what: string): Descriptor {
  if ((sel & 0xfffc) === 0) throw gp0(`${what} to a null selector`);
  const d = readDescriptor(cpu, sel);
  if (!(d.attr & 0x10)) {
    const type = d.attr & 0xf;
    // Call gates (4, 0xc), task gates (5) and TSSs (1, 9) are real features the soft CPU lacks;
    // any other system descriptor is simply not a valid target.
    if ([1, 4, 5, 9, 0xc].includes(type)) throw unsupported(`${what} through a system descriptor of type ${type} (call gate / task switch)`);
    throw new X86Fault(13, sel & 0xfffc, `${what}: selector 0x${sel.toString(16)} is a system descriptor of type ${type}`);
  }
  if (!(d.attr & 4) && (sel & 3) > cpu.cpl) throw new X86Fault(13, sel & 0xfffc, `${what}: RPL ${sel & 3} > CPL ${cpu.cpl}`);
  checkCodeSegment(d, sel, cpu.cpl, what);
  checkTargetOffset(cpu, d, offset);
  return d;
}

function checkTargetOffset(cpu: SoftCpu, d: Descriptor, offset: number): void {
  if (cpu.longMode && (d.attr & ATTR_L)) {
    if (offset >= 0x800000000000 || offset < -0x800000000000) throw gp0(`far transfer to non-canonical 0x${offset.toString(16)}`);
  } else if (offset > d.limit) {
    throw gp0(`far transfer offset 0x${offset.toString(16)} beyond limit 0x${d.limit.toString(16)}`);
  }
}

export function jmpFar(cpu: SoftCpu, insn: Instruction): void {
  const { sel, offset } = farPointer(cpu, insn);
  if (inRealOrV86(cpu)) {
    setRealSegment(cpu, SEG_CS, sel);
    cpu.setRip(offset);
    cpu.updateMode();
    return;
  }
  const d = checkFarTarget(cpu, sel, offset, 'JMP far');
  setCodeSegment(cpu, sel, d, cpu.cpl);
  cpu.setRip(offset);
}

export function callFar(cpu: SoftCpu, insn: Instruction): void {
  const { sel, offset } = farPointer(cpu, insn);
  const size = opSize(insn);
  computeNextRip(cpu, insn);
  const retLo = nextRipOut.lo, retHi = nextRipOut.hi;
  const d = inRealOrV86(cpu) ? undefined : checkFarTarget(cpu, sel, offset, 'CALL far');
  const sp0 = getRsp(cpu);
  const csSlot = stackOffset(cpu, sp0, -size);
  const ipSlot = stackOffset(cpu, sp0, -2 * size);
  cpu.write(SEG_SS, csSlot, size, cpu.segSel[SEG_CS]!, 0);
  cpu.write(SEG_SS, ipSlot, size, retLo, size === 8 ? retHi : 0);
  setRsp(cpu, ipSlot);
  if (d) setCodeSegment(cpu, sel, d, cpu.cpl);
  else { setRealSegment(cpu, SEG_CS, sel); cpu.updateMode(); }
  cpu.setRip(offset);
}

export function retFar(cpu: SoftCpu, insn: Instruction): void {
  const size = opSize(insn);
  const imm = insn.opcode === 0xca ? insn.imm & 0xffff : 0;
  const [offset, selRaw] = peek(cpu, size, 2) as [number, number];
  const sel = selRaw & 0xffff;
  if (inRealOrV86(cpu)) {
    setRealSegment(cpu, SEG_CS, sel);
    discard(cpu, 2 * size + imm);
    cpu.setRip(offset);
    cpu.updateMode();
    return;
  }
  if ((sel & 0xfffc) === 0) throw gp0('RET far to a null selector');
  const rpl = sel & 3;
  if (rpl < cpu.cpl) throw new X86Fault(13, sel & 0xfffc, `RET far to RPL ${rpl} < CPL ${cpu.cpl}`);
  const d = readDescriptor(cpu, sel);
  checkCodeSegment(d, sel, rpl, 'RET far');
  checkTargetOffset(cpu, d, offset);
  if (rpl === cpu.cpl) {
    discard(cpu, 2 * size + imm);
    setCodeSegment(cpu, sel, d, rpl);
    cpu.setRip(offset);
    return;
  }
  // Return to an outer level: the caller's RSP and SS follow the parameters.
  const sp = getRsp(cpu);
  const spAt = stackOffset(cpu, sp, 2 * size + imm);
  const newSpLo = cpu.read(SEG_SS, spAt, size);
  const newSp = size === 8 ? cpu.memHi * TWO32 + (newSpLo >>> 0) : size === 4 ? newSpLo >>> 0 : newSpLo;
  const ssSel = cpu.read(SEG_SS, stackOffset(cpu, spAt, size), 2);
  const ssDesc = checkStackSegment(cpu, ssSel, rpl, 13, cpu.longMode && (d.attr & ATTR_L) !== 0);
  setCodeSegment(cpu, sel, d, rpl);
  setStackSegment(cpu, ssSel, ssDesc, rpl);
  cpu.updateMode();
  setRsp(cpu, stackOffset(cpu, newSp, imm));
  cpu.setRip(offset);
  nullInaccessibleSegments(cpu);
}

/** RFLAGS after IRET/POPF: which bits the popped value may change at this CPL and IOPL. */
export function mergeFlags(cpu: SoftCpu, popped: number, size: number, isIret = true): number {
  let mask = ARITH_FLAGS | TF | DF | RFLAGS_NT;
  if (size >= 4) mask |= RFLAGS_AC | RFLAGS_ID | (isIret ? RFLAGS_RF : 0);
  if (cpu.cpl <= iopl(cpu)) mask |= IF;
  if (cpu.cpl === 0) mask |= RFLAGS_IOPL | (size >= 4 && isIret ? RFLAGS_VIF | RFLAGS_VIP : 0);
  if (size === 2) mask &= 0xffff;
  const merged = (cpu.flags & ~mask) | (popped & mask) | 2;
  return (isIret ? merged : merged & ~RFLAGS_RF) >>> 0;
}

export function iret(cpu: SoftCpu, insn: Instruction): void {
  const size = opSize(insn);
  if (!(cpu.cr0 & 1)) {
    const [ip, cs, fl] = peek(cpu, size, 3) as [number, number, number];
    discard(cpu, 3 * size);
    setRealSegment(cpu, SEG_CS, cs & 0xffff);
    cpu.setRip(ip);
    cpu.flags = size === 2
      ? ((cpu.flags & ~0xffff) | (fl & 0xffff) | 2) >>> 0
      : ((fl & 0x257fd5) | (cpu.flags & 0x1a0000) | 2) >>> 0;
    cpu.updateMode();
    cpu.nmiBlocked = false;
    return;
  }
  if (cpu.flags & RFLAGS_VM) throw unsupported('IRET in virtual-8086 mode');
  if ((cpu.flags & RFLAGS_NT) && !cpu.longMode) throw unsupported('IRET with NT set (task return)');
  const frame = peek(cpu, size, cpu.longMode && cpu.mode === 64 ? 5 : 3);
  const [offset, selRaw, fl] = frame as [number, number, number];
  const sel = selRaw & 0xffff;
  if ((fl & RFLAGS_VM) && cpu.cpl === 0 && !cpu.longMode) throw unsupported('IRET to virtual-8086 mode');
  if ((sel & 0xfffc) === 0) throw gp0('IRET to a null selector');
  const rpl = sel & 3;
  if (rpl < cpu.cpl) throw new X86Fault(13, sel & 0xfffc, `IRET to RPL ${rpl} < CPL ${cpu.cpl}`);
  const d = readDescriptor(cpu, sel);
  checkCodeSegment(d, sel, rpl, 'IRET');
  checkTargetOffset(cpu, d, offset);
  const newFlags = mergeFlags(cpu, fl, size);
  const popsStack = rpl > cpu.cpl || (cpu.longMode && cpu.mode === 64);
  if (!popsStack) {
    discard(cpu, 3 * size);
    setCodeSegment(cpu, sel, d, rpl);
    cpu.setRip(offset);
    cpu.flags = newFlags;
    cpu.updateMode();
    cpu.nmiBlocked = false;
    return;
  }
  const [newSp, ssRaw] = frame.length === 5
    ? [frame[3]!, frame[4]!]
    : ((): [number, number] => {
      const at = stackOffset(cpu, getRsp(cpu), 3 * size);
      const lo = cpu.read(SEG_SS, at, size);
      return [size === 4 ? lo >>> 0 : lo, cpu.read(SEG_SS, stackOffset(cpu, at, size), 2)];
    })();
  const ssSel = ssRaw & 0xffff;
  const ssDesc = checkStackSegment(cpu, ssSel, rpl, 13, cpu.longMode && (d.attr & ATTR_L) !== 0);
  // Mask the popped flags at the old CPL, then switch.
  setCodeSegment(cpu, sel, d, rpl);
  setStackSegment(cpu, ssSel, ssDesc, rpl);
  cpu.flags = newFlags;
  cpu.updateMode();
  if (cpu.mode === 64 || size === 8) cpu.setReg64(4, newSp);
  else setRsp(cpu, newSp);
  cpu.setRip(offset);
  cpu.nmiBlocked = false;
  nullInaccessibleSegments(cpu);
}

/** INT n / INT3 / INTO / INT1: RIP moves past the instruction, then the gate is taken. */
function softInterrupt(cpu: SoftCpu, insn: Instruction, vector: number, software: boolean): void {
  const ripLo = cpu.regs[RIP_LO]!, ripHi = cpu.regs[RIP_LO + 1]!;
  advance(cpu, insn);
  try {
    deliverEvent(cpu, vector, undefined, software ? SRC_SOFTWARE : SRC_EXCEPTION, true);
  } catch (e) {
    // A fault while taking the gate is a fault of the INT instruction itself.
    cpu.regs[RIP_LO] = ripLo; cpu.regs[RIP_LO + 1] = ripHi;
    throw e;
  }
}

export function intN(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.flags & RFLAGS_VM) && iopl(cpu) < 3) throw gp0('INT n in virtual-8086 mode with IOPL < 3');
  softInterrupt(cpu, insn, insn.imm & 0xff, true);
}
export function int3(cpu: SoftCpu, insn: Instruction): void {
  softInterrupt(cpu, insn, 3, true);
}
export function into(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.flags & OF)) { advance(cpu, insn); return; }
  softInterrupt(cpu, insn, 4, true);
}
export function int1(cpu: SoftCpu, insn: Instruction): void {
  softInterrupt(cpu, insn, 1, false);
}

