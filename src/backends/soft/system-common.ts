/**
 * Shared pieces of the system-instruction handlers: the handler signature, privilege checks,
 * and operand access through the executor's helpers (src/x86/exec), so the soft CPU computes
 * effective addresses and register writes exactly as the general-purpose instructions do.
 */
import { X86Fault } from '../../x86/exec/context.js';
import { advance, effectiveAddress } from '../../x86/exec/address.js';
import { rmRead, rmWrite } from '../../x86/exec/operands.js';
import { half, readGpr, writeGpr } from '../../x86/exec/regs.js';
import type { Instruction } from '../../x86/instruction.js';
import type { SoftCpu } from './cpu.js';
import { RFLAGS_IOPL, RFLAGS_VM } from './state.js';

/** Executes one system instruction: leaves RIP at the next instruction (or the branch target). */
export type SystemHandler = (cpu: SoftCpu, insn: Instruction) => void;

export { advance, effectiveAddress, half, readGpr, writeGpr, rmRead, rmWrite };

export function gp0(why: string): X86Fault {
  return new X86Fault(13, 0, why);
}
export function ud(insn: Instruction, why: string): X86Fault {
  return new X86Fault(6, undefined, `${insn.mnemonic}: ${why}`);
}

/** Privileged instructions: #GP(0) unless CPL 0 (real mode counts as CPL 0). */
export function requireCpl0(cpu: SoftCpu, insn: Instruction): void {
  if (cpu.cpl !== 0) throw gp0(`${insn.mnemonic} at CPL ${cpu.cpl}`);
}

/** Instructions that do not exist in real or virtual-8086 mode raise #UD there. */
export function requireProtected(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpu.cr0 & 1) || (cpu.flags & RFLAGS_VM)) throw ud(insn, 'not available in real or virtual-8086 mode');
}

export function iopl(cpu: SoftCpu): number {
  return (cpu.flags & RFLAGS_IOPL) >>> 12;
}

/** The memory operand's effective address (#UD for a register form). */
export function memAddress(cpu: SoftCpu, insn: Instruction): number {
  if (insn.mod === 3 || insn.mem === null) throw ud(insn, 'needs a memory operand');
  return effectiveAddress(cpu, insn);
}

/** 32-bit value of the r/m operand at size 2 (word forms such as LLDT r/m16). */
export function readRm16(cpu: SoftCpu, insn: Instruction): number {
  return rmRead(cpu, insn, 2, insn.mod === 3 ? 0 : effectiveAddress(cpu, insn)) & 0xffff;
}
