/**
 * The x87/SSE state instructions outside the x87 escapes on the soft CPU: FWAIT, FXSAVE,
 * FXRSTOR, LDMXCSR, STMXCSR (src/x86/x87-exec/fxsave.ts, shared with the assists, run with this
 * model's MXCSR mask and x87 selectors), and the fences/cache hints (no-ops on a single in-order
 * CPU, after their checks). The x87 instructions themselves (D8-DF) are src/x86/x87-exec, run
 * through x87.ts.
 */
import type { Instruction } from '../../x86/instruction.js';
import * as shared from '../../x86/x87-exec/fxsave.js';
import type { SoftCpu } from './cpu.js';
import { CR0_MP, CR0_TS } from './state.js';
import { advance } from './system-common.js';
import { fwaitX87, selectorsOf } from './x87.js';

/** MXCSR bits that may be set (with DAZ). */
export const MXCSR_MASK = 0xffff;

/** FWAIT: #NM with CR0.TS and MP both set, then a pending unmasked x87 exception (#MF). */
export function fwait(cpu: SoftCpu, insn: Instruction): void {
  if ((cpu.cr0 & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) throw shared.deviceNotAvailable(insn);
  fwaitX87(cpu, insn);
}

export const fxsave = (cpu: SoftCpu, insn: Instruction): void => shared.fxsave(cpu, insn, selectorsOf(cpu), MXCSR_MASK);
export const fxrstor = (cpu: SoftCpu, insn: Instruction): void => shared.fxrstor(cpu, insn, selectorsOf(cpu), MXCSR_MASK);
export const ldmxcsr = (cpu: SoftCpu, insn: Instruction): void => shared.ldmxcsr(cpu, insn, MXCSR_MASK);
export const stmxcsr = (cpu: SoftCpu, insn: Instruction): void => shared.stmxcsr(cpu, insn);

/** LFENCE/MFENCE/SFENCE, CLFLUSH, INVD/WBINVD (privileged): ordering and caches are not modelled. */
export function noOp(cpu: SoftCpu, insn: Instruction): void {
  advance(cpu, insn);
}
