/**
 * Interrupt-flag and flags-image instructions: CLI, STI (with its one-instruction interrupt
 * shadow), PUSHF, POPF (IOPL and virtual-8086 rules), and HLT.
 */
import type { Instruction } from '../../x86/instruction.js';
import { IF } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { mergeFlags } from './far-transfer.js';
import { peek, discard, push } from './stack.js';
import { CR0_PE, RFLAGS_RF, RFLAGS_VM } from './state.js';
import { advance, gp0, iopl, requireCpl0 } from './system-common.js';

function checkIopl(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.cr0 & CR0_PE) && cpu.cpl > iopl(cpu)) throw gp0(`${insn.mnemonic} at CPL ${cpu.cpl} > IOPL ${iopl(cpu)}`);
}

export function cli(cpu: SoftCpu, insn: Instruction): void {
  checkIopl(cpu, insn);
  cpu.flags &= ~IF;
  advance(cpu, insn);
}

export function sti(cpu: SoftCpu, insn: Instruction): void {
  checkIopl(cpu, insn);
  const wasOff = !(cpu.flags & IF);
  cpu.flags |= IF;
  advance(cpu, insn);
  if (wasOff) cpu.intShadow = true;
}

function flagsOpSize(insn: Instruction): 2 | 4 | 8 {
  return insn.opSize === 1 ? 2 : insn.opSize;
}

export function pushf(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.flags & RFLAGS_VM) && iopl(cpu) < 3) throw gp0('PUSHF in virtual-8086 mode with IOPL < 3');
  const size = flagsOpSize(insn);
  const image = cpu.flags & ~(RFLAGS_VM | RFLAGS_RF);
  push(cpu, size, size === 2 ? image & 0xffff : image, 0);
  advance(cpu, insn);
}

export function popf(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.flags & RFLAGS_VM) && iopl(cpu) < 3) throw gp0('POPF in virtual-8086 mode with IOPL < 3');
  const size = flagsOpSize(insn);
  const [v] = peek(cpu, size, 1) as [number];
  // Real mode behaves as CPL 0 with every flag writable except VM/VIF/VIP.
  cpu.flags = mergeFlags(cpu, v, size, false);
  discard(cpu, size);
  advance(cpu, insn);
}

/** HLT: RIP moves past it; the run loop delivers a pending interrupt or exits 'halted'. */
export function hlt(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  advance(cpu, insn);
  cpu.halted = true;
}
