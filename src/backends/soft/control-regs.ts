/**
 * Control and debug registers: MOV to/from CR0/CR2/CR3/CR4/CR8 and DR0-7, LMSW, SMSW, CLTS,
 * with the architectural checks (#GP for reserved bits and forbidden combinations) and the
 * side effects: long-mode activation (EFER.LMA), TLB flushes, CR8/TPR change exits.
 * Debug registers are stored; enabling a hardware breakpoint in DR7 is an 'invalid' exit (the
 * soft CPU does not implement them), TF single-stepping is implemented in run.ts.
 */
import type { Instruction } from '../../x86/instruction.js';
import { X86Fault } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { cpuidValues } from './cpuid.js';
import { ExitSignal } from './signals.js';
import { CPUID1_ECX_XSAVE } from './xsave.js';
import {
  CR0_CD, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP, CR4_DE, CR4_OSXSAVE, CR4_PAE, CR4_PGE, CR4_PSE, CR4_SUPPORTED,
  EFER_LMA, EFER_LME, ATTR_L,
} from './state.js';
import { advance, gp0, half, readGpr, requireCpl0, rmRead, rmWrite, effectiveAddress, ud, writeGpr } from './system-common.js';

const TWO32 = 4294967296;
/** CR0 bits that exist (ET is hardwired to 1). */
const CR0_DEFINED = 0xe005003f | 0;

/** MOV CR0 semantics, shared with LMSW. Returns after flushing what the change requires. */
export function writeCr0(cpu: SoftCpu, value: number): void {
  value = (value | 0x10) | 0; // ET reads as 1
  if (value & ~CR0_DEFINED) throw gp0(`CR0 reserved bits in 0x${(value >>> 0).toString(16)}`);
  if ((value & CR0_PG) && !(value & CR0_PE)) throw gp0('CR0.PG without CR0.PE');
  if ((value & CR0_NW) && !(value & CR0_CD)) throw gp0('CR0.NW without CR0.CD');
  const old = cpu.cr0;
  if ((value & CR0_PG) && !(old & CR0_PG) && (cpu.efer & EFER_LME)) {
    if (!(cpu.cr4 & CR4_PAE)) throw gp0('enabling long-mode paging without CR4.PAE');
    if (cpu.segAttr[1]! & ATTR_L) throw gp0('enabling long mode with CS.L set');
    cpu.efer |= EFER_LMA;
  }
  if (!(value & CR0_PG) && (old & CR0_PG) && (cpu.efer & EFER_LMA)) {
    if (cpu.mode === 64) throw gp0('disabling paging from 64-bit code');
    cpu.efer &= ~EFER_LMA;
  }
  cpu.cr0 = value;
  if ((old ^ value) & (CR0_PG | CR0_WP | CR0_PE)) cpu.flushTlb();
  cpu.updateMode();
}

export function writeCr4(cpu: SoftCpu, value: number): void {
  if (value & ~CR4_SUPPORTED) throw gp0(`CR4 bits 0x${((value & ~CR4_SUPPORTED) >>> 0).toString(16)} unsupported or reserved`);
  if ((cpu.efer & EFER_LMA) && !(value & CR4_PAE)) throw gp0('clearing CR4.PAE in long mode');
  // A feature the vCPU's CPUID hides is reserved, as KVM treats it.
  if ((value & CR4_OSXSAVE) && !(cpuidValues(cpu, 1, 0)[2]! & CPUID1_ECX_XSAVE)) {
    throw gp0('CR4.OSXSAVE without CPUID.1:ECX.XSAVE');
  }
  const old = cpu.cr4;
  cpu.cr4 = value;
  if ((old ^ value) & (CR4_PAE | CR4_PGE | CR4_PSE)) cpu.flushTlb();
}

export function writeCr3(cpu: SoftCpu, value: number): void {
  cpu.cr3 = value;
  cpu.flushTlb(false);
}

/** CR8 (TPR): a tpr-changed exit after the instruction when the VMM asked for it. */
export function writeCr8(cpu: SoftCpu, value: number): void {
  if (value & ~0xf) throw gp0(`CR8 reserved bits in 0x${value.toString(16)}`);
  const changed = cpu.cr8 !== value;
  cpu.cr8 = value;
  if (changed && cpu.tprExitChanged) cpu.pendingTprExit = true;
}

function crValue(cpu: SoftCpu, n: number): number {
  switch (n) {
    case 0: return cpu.cr0 >>> 0;
    case 2: return cpu.cr2;
    case 3: return cpu.cr3;
    case 4: return cpu.cr4;
    case 8: return cpu.cr8;
    default: throw new X86Fault(6, undefined, `MOV from CR${n}`);
  }
}

export function movFromCr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const v = crValue(cpu, insn.reg);
  const hi = cpu.mode === 64 ? Math.floor(v / TWO32) : 0;
  writeGpr(cpu, insn.rm, cpu.mode === 64 ? 8 : 4, 0, v - hi * TWO32, hi);
  advance(cpu, insn);
}

export function movToCr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const lo = readGpr(cpu, insn.rm, cpu.mode === 64 ? 8 : 4, 0);
  const hi = cpu.mode === 64 ? half.hi : 0;
  switch (insn.reg) {
    case 0:
      if (hi) throw gp0('CR0 bits 63:32 set');
      writeCr0(cpu, lo);
      break;
    case 2: cpu.cr2 = hi * TWO32 + (lo >>> 0); break;
    case 3: writeCr3(cpu, (hi >>> 0) * TWO32 + (lo >>> 0)); break;
    case 4:
      if (hi) throw gp0('CR4 bits 63:32 set');
      writeCr4(cpu, lo);
      break;
    case 8:
      if (hi) throw gp0('CR8 bits 63:32 set');
      writeCr8(cpu, lo);
      break;
    default: throw ud(insn, `CR${insn.reg} does not exist`);
  }
  advance(cpu, insn);
}

function drIndex(cpu: SoftCpu, insn: Instruction): number {
  const n = insn.reg;
  if (n > 7) throw ud(insn, `DR${n} does not exist`);
  if ((n === 4 || n === 5) && (cpu.cr4 & CR4_DE)) throw ud(insn, `DR${n} with CR4.DE`);
  return n === 4 ? 6 : n === 5 ? 7 : n;
}

export function movFromDr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const n = drIndex(cpu, insn);
  const v = n < 4 ? cpu.dr[n]! : n === 6 ? cpu.dr6 : cpu.dr7;
  const hi = cpu.mode === 64 ? Math.floor(v / TWO32) : 0;
  writeGpr(cpu, insn.rm, cpu.mode === 64 ? 8 : 4, 0, v - hi * TWO32, hi);
  advance(cpu, insn);
}

export function movToDr(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const n = drIndex(cpu, insn);
  const lo = readGpr(cpu, insn.rm, cpu.mode === 64 ? 8 : 4, 0);
  const hi = cpu.mode === 64 ? half.hi : 0;
  if (n < 4) cpu.dr[n] = hi * TWO32 + (lo >>> 0);
  else {
    if (hi) throw gp0(`DR${n} bits 63:32 set`);
    if (n === 6) cpu.dr6 = ((lo | 0xffff0ff0) >>> 0);
    else {
      // Breakpoints would never fire: say so rather than accept them silently.
      if (lo & 0xff) {
        throw new ExitSignal({ reason: 'invalid', detail: `soft: hardware breakpoints (DR7 = 0x${(lo >>> 0).toString(16)}) are not supported` });
      }
      cpu.dr7 = ((lo | 0x400) & ~0xd000) >>> 0;
    }
  }
  advance(cpu, insn);
}

export function clts(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  cpu.cr0 &= ~CR0_TS;
  advance(cpu, insn);
}

/** LMSW: loads PE/MP/EM/TS; can set PE but never clear it. */
export function lmsw(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const v = rmRead(cpu, insn, 2, insn.mod === 3 ? 0 : effectiveAddress(cpu, insn)) & 0xf;
  writeCr0(cpu, (cpu.cr0 & ~0xe) | (v & 0xe) | (cpu.cr0 & CR0_PE) | (v & 1));
  advance(cpu, insn);
}

/** SMSW: register forms store operand-size bits of CR0, memory forms 16 bits. */
export function smsw(cpu: SoftCpu, insn: Instruction): void {
  if (insn.mod === 3) {
    const size = insn.opSize === 1 ? 2 : insn.opSize;
    rmWrite(cpu, insn, size, 0, cpu.cr0 & (size === 2 ? 0xffff : -1), 0);
  } else {
    rmWrite(cpu, insn, 2, effectiveAddress(cpu, insn), cpu.cr0 & 0xffff, 0);
  }
  advance(cpu, insn);
}

/** Throws the tpr-changed exit pending after an instruction, if any. */
export function takeTprExit(cpu: SoftCpu): void {
  if (cpu.pendingTprExit) {
    cpu.pendingTprExit = false;
    throw new ExitSignal({ reason: 'tpr-changed', cr8: BigInt(cpu.cr8) });
  }
}
