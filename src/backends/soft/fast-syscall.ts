/**
 * The fast system-call instructions: SYSCALL/SYSRET (STAR/LSTAR/CSTAR/SFMASK) and
 * SYSENTER/SYSEXIT (SYSENTER_CS/ESP/EIP), which load flat CS/SS without reading the GDT, and
 * SWAPGS and the FS/GS-base instructions. Legacy-mode SYSCALL/SYSRET (AMD) are supported as well.
 */
import type { Instruction } from '../../x86/instruction.js';
import { IF, RIP_LO } from '../../x86/exec/context.js';
import { computeNextRip, nextRipOut } from '../../x86/exec/address.js';
import type { SoftCpu } from './cpu.js';
import { SEG_CS, SEG_SS } from './segmentation.js';
import { ATTR_DEF, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0_PE, CR4_FSGSBASE, EFER_SCE, RFLAGS_RF, RFLAGS_VM } from './state.js';
import { gp0, half, readGpr, requireCpl0, ud, writeGpr } from './system-common.js';

const TWO32 = 4294967296;
const CANON = 0x800000000000;

/** Loads a flat 4 GiB code or stack segment as SYSCALL/SYSENTER do (no descriptor read). */
function flat(cpu: SoftCpu, slot: number, sel: number, dpl: number, code: boolean, long: boolean): void {
  cpu.segSel[slot] = sel;
  cpu.segBase[slot] = 0;
  cpu.segLimit[slot] = 0xffffffff;
  cpu.segAttr[slot] = (code ? 0xb : 0x3) | ATTR_S | (dpl << 5) | ATTR_P | ATTR_G |
    (code && long ? ATTR_L : ATTR_DEF);
}

function nextRip(cpu: SoftCpu, insn: Instruction): number {
  computeNextRip(cpu, insn);
  return nextRipOut.hi * TWO32 + (nextRipOut.lo >>> 0);
}

export function syscall(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.efer & EFER_SCE) || !(cpu.cr0 & CR0_PE)) throw ud(insn, 'EFER.SCE is clear or not in protected mode');
  const ret = nextRip(cpu, insn);
  const csSel = cpu.starHi & 0xfffc;
  if (cpu.longMode) {
    cpu.setReg64(1, ret);                   // RCX
    cpu.regs[22] = cpu.flags & ~RFLAGS_RF;  // R11 = RFLAGS
    cpu.regs[23] = 0;
    flat(cpu, SEG_CS, csSel, 0, true, true);
    flat(cpu, SEG_SS, (csSel + 8) & 0xfffc, 0, false, false);
    cpu.flags = (cpu.flags & ~cpu.sfmask & ~RFLAGS_RF) | 2;
    cpu.setRip(cpu.mode === 64 ? cpu.lstar : cpu.cstar);
  } else {
    cpu.regs[2] = ret; cpu.regs[3] = 0;     // ECX
    flat(cpu, SEG_CS, csSel, 0, true, false);
    flat(cpu, SEG_SS, (csSel + 8) & 0xfffc, 0, false, false);
    cpu.flags &= ~(IF | RFLAGS_VM | RFLAGS_RF);
    cpu.setRip(cpu.starLo >>> 0);
  }
  cpu.cpl = 0;
  cpu.updateMode();
}

export function sysret(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.efer & EFER_SCE) || !(cpu.cr0 & CR0_PE)) throw ud(insn, 'EFER.SCE is clear or not in protected mode');
  requireCpl0(cpu, insn);
  const base = (cpu.starHi >>> 16) & 0xffff;
  if (cpu.longMode) {
    const to64 = insn.opSize === 8;
    const target = to64 ? cpu.reg64(1) : cpu.regs[2]! >>> 0;
    if (to64 && (target >= CANON || target < -CANON)) throw gp0(`SYSRET to non-canonical RCX 0x${target.toString(16)}`);
    const r11 = cpu.regs[22]!;
    flat(cpu, SEG_CS, ((to64 ? base + 16 : base) & 0xfffc) | 3, 3, true, to64);
    flat(cpu, SEG_SS, ((base + 8) & 0xfffc) | 3, 3, false, false);
    cpu.flags = ((r11 & 0x3c7fd7) | 2) >>> 0;
    cpu.cpl = 3;
    cpu.updateMode();
    cpu.setRip(target);
  } else {
    flat(cpu, SEG_CS, (base & 0xfffc) | 3, 3, true, false);
    flat(cpu, SEG_SS, ((base + 8) & 0xfffc) | 3, 3, false, false);
    cpu.flags |= IF;
    cpu.cpl = 3;
    cpu.updateMode();
    cpu.setRip(cpu.regs[2]! >>> 0);
  }
}

export function sysenter(cpu: SoftCpu, _insn: Instruction): void {
  if (!(cpu.cr0 & CR0_PE)) throw gp0('SYSENTER in real mode');
  if ((cpu.sysenterCs & 0xfffc) === 0) throw gp0('SYSENTER with SYSENTER_CS = 0');
  const long = cpu.longMode;
  flat(cpu, SEG_CS, cpu.sysenterCs & 0xfffc, 0, true, long);
  flat(cpu, SEG_SS, (cpu.sysenterCs + 8) & 0xfffc, 0, false, false);
  cpu.flags &= ~(IF | RFLAGS_VM | RFLAGS_RF);
  cpu.cpl = 0;
  cpu.updateMode();
  if (long) { cpu.setReg64(4, cpu.sysenterEsp); cpu.setRip(cpu.sysenterEip); } else {
    cpu.regs[8] = cpu.sysenterEsp; cpu.regs[9] = 0;
    cpu.regs[RIP_LO] = cpu.sysenterEip; cpu.regs[RIP_LO + 1] = 0;
  }
}

export function sysexit(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.cr0 & CR0_PE)) throw gp0('SYSEXIT in real mode');
  requireCpl0(cpu, insn);
  if ((cpu.sysenterCs & 0xfffc) === 0) throw gp0('SYSEXIT with SYSENTER_CS = 0');
  const to64 = insn.opSize === 8;
  const cs = to64 ? cpu.sysenterCs + 32 : cpu.sysenterCs + 16;
  const ss = to64 ? cpu.sysenterCs + 40 : cpu.sysenterCs + 24;
  flat(cpu, SEG_CS, (cs & 0xfffc) | 3, 3, true, to64);
  flat(cpu, SEG_SS, (ss & 0xfffc) | 3, 3, false, false);
  cpu.cpl = 3;
  cpu.updateMode();
  if (to64) { cpu.setReg64(4, cpu.reg64(1)); cpu.setRip(cpu.reg64(2)); } else {
    cpu.regs[8] = cpu.regs[2]!; cpu.regs[9] = 0;
    cpu.regs[RIP_LO] = cpu.regs[4]!; cpu.regs[RIP_LO + 1] = 0;
  }
}

export function swapgs(cpu: SoftCpu, insn: Instruction): void {
  if (cpu.mode !== 64) throw ud(insn, 'only in 64-bit mode');
  requireCpl0(cpu, insn);
  const gs = cpu.segBase[5]!;
  cpu.segBase[5] = cpu.kernelGsBase;
  cpu.kernelGsBase = gs;
  computeNextRip(cpu, insn);
  cpu.regs[RIP_LO] = nextRipOut.lo; cpu.regs[RIP_LO + 1] = nextRipOut.hi;
}

/** RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE (64-bit mode, CR4.FSGSBASE): the segment bases directly. */
export function fsGsBase(cpu: SoftCpu, insn: Instruction): void {
  if (cpu.mode !== 64 || !(cpu.cr4 & CR4_FSGSBASE)) throw ud(insn, 'needs 64-bit mode and CR4.FSGSBASE');
  const slot = insn.mnemonic.includes('fs') ? 4 : 5;
  const size = insn.opSize === 8 ? 8 : 4;
  if (insn.mnemonic.startsWith('rd')) {
    const v = cpu.segBase[slot]!;
    const hi = Math.floor(v / TWO32);
    writeGpr(cpu, insn.rm, size, insn.rex, v - hi * TWO32, size === 8 ? hi : 0);
  } else {
    const lo = readGpr(cpu, insn.rm, size, insn.rex);
    const v = size === 8 ? half.hi * TWO32 + (lo >>> 0) : lo >>> 0;
    if (v >= CANON || v < -CANON) throw gp0(`${insn.mnemonic} with non-canonical 0x${v.toString(16)}`);
    cpu.segBase[slot] = v;
  }
  computeNextRip(cpu, insn);
  cpu.regs[RIP_LO] = nextRipOut.lo; cpu.regs[RIP_LO + 1] = nextRipOut.hi;
}
