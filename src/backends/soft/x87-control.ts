/**
 * The x87 control instructions on the soft CPU: FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT,
 * FNSTENV/FLDENV and FNSAVE/FRSTOR (layouts in x87-env.ts), and the selectors of the last
 * instruction and operand that the environment images carry.
 */
import type { Instruction } from '../../x86/instruction.js';
import type { SoftCpu } from './cpu.js';
import { CR0_PE, RFLAGS_VM } from './state.js';
import { envSize, loadEnv, loadSave, storeEnv, storeSave, type EnvLayout, type EnvPointers } from './x87-env.js';
import { readBytes, writeBytes } from './x87-memory.js';
import type { Run } from './x87-ops.js';
import { FSW_B, retop, updateSummary } from './x87-regs.js';

export interface Selectors { fcs: number; fds: number; dsBase: number }
/** FCS/FDS are not part of the API state (as in FXSAVE's 64-bit image): kept beside the CPU. */
const selectors = new WeakMap<SoftCpu, Selectors>();
export function selectorsOf(cpu: SoftCpu): Selectors {
  let s = selectors.get(cpu);
  if (!s) { s = { fcs: 0, fds: 0, dsBase: 0 }; selectors.set(cpu, s); }
  return s;
}

function layout(cpu: SoftCpu, insn: Instruction): EnvLayout {
  return { wide: insn.opSize !== 2, real: !(cpu.cr0 & CR0_PE) || (cpu.flags & RFLAGS_VM) !== 0 };
}

/** FLDCW: reserved bit 6 reads as 1 and bits 13-15 as 0 (checked against the host). */
export const fldcw: Run = (cpu, insn) => {
  const b = readBytes(cpu, insn, 2);
  cpu.fcw = ((b[0]! | (b[1]! << 8)) & 0x1f3f) | 0x40;
  updateSummary(cpu);
};
export const fnstcw: Run = (cpu, insn) => writeBytes(cpu, insn, Uint8Array.of(cpu.fcw & 0xff, cpu.fcw >>> 8));
export const fnstswMem: Run = (cpu, insn) => writeBytes(cpu, insn, Uint8Array.of(cpu.fsw & 0xff, cpu.fsw >>> 8));
export const fnstswAx: Run = (cpu) => { cpu.regs[0] = (cpu.regs[0]! & ~0xffff) | cpu.fsw; };
export const fnclex: Run = (cpu) => { cpu.fsw &= ~(0xff | FSW_B); };
export function initFpu(cpu: SoftCpu): void {
  retop(cpu, 0);
  cpu.fcw = 0x37f; cpu.fsw = 0; cpu.ftw = 0; cpu.fop = 0; cpu.fip = 0n; cpu.fdp = 0n;
  const s = selectorsOf(cpu);
  s.fcs = 0; s.fds = 0; s.dsBase = 0;
}
export const fninit: Run = (cpu) => initFpu(cpu);

function pointers(cpu: SoftCpu): EnvPointers {
  const s = selectorsOf(cpu);
  return { fcs: s.fcs, fds: s.fds, csBase: cpu.segBase[1]!, dsBase: s.dsBase };
}

export const fnstenv: Run = (cpu, insn) => {
  writeBytes(cpu, insn, storeEnv(cpu, layout(cpu, insn), pointers(cpu)));
  cpu.fcw |= 0x3f;
  updateSummary(cpu);
};
export const fldenv: Run = (cpu, insn) => {
  const l = layout(cpu, insn);
  const sel = loadEnv(cpu, readBytes(cpu, insn, envSize(l)), l);
  Object.assign(selectorsOf(cpu), sel);
};
export const fnsave: Run = (cpu, insn) => {
  writeBytes(cpu, insn, storeSave(cpu, layout(cpu, insn), pointers(cpu)));
  initFpu(cpu);
};
export const frstor: Run = (cpu, insn) => {
  const l = layout(cpu, insn);
  const sel = loadSave(cpu, readBytes(cpu, insn, envSize(l) + 80), l);
  Object.assign(selectorsOf(cpu), sel);
};
