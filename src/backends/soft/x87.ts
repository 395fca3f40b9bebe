/**
 * The x87 instruction layer (src/x86/x87-exec, shared with the assists) on the soft CPU: the
 * platform it runs over. FCS/FDS (not part of the API state, as in FXSAVE's 64-bit image) are
 * kept beside the CPU; FISTTP follows the vCPU's CPUID (SSE3).
 *
 * CR0.NE clear: the processor would signal FERR# for an external interrupt controller (IRQ13
 * through the PC's glue logic) and freeze at the waiting instruction. The soft CPU models no
 * FERR# pin: it ends the run with an 'invalid' exit that says so, leaving RIP on the waiting
 * instruction, instead of guessing at a board it does not have.
 */
import type { Instruction } from '../../x86/instruction.js';
import {
  executeX87 as executeX87On, raisePendingX87, type X87Context, type X87Platform, type X87Selectors,
} from '../../x86/x87-exec/index.js';
import type { SoftCpu } from './cpu.js';
import { cpuidValues } from './cpuid.js';
import { ExitSignal } from './signals.js';
import { advance } from './system-common.js';

const selectors = new WeakMap<SoftCpu, X87Selectors>();
export function selectorsOf(cpu: SoftCpu): X87Selectors {
  let s = selectors.get(cpu);
  if (!s) { s = { fcs: 0, fds: 0, dsBase: 0 }; selectors.set(cpu, s); }
  return s;
}

/** The soft CPU runs the x87 layer on itself: every context this platform sees is a SoftCpu. */
export const SOFT_X87: X87Platform = {
  selectors: (ctx: X87Context) => selectorsOf(ctx as SoftCpu),
  hasFisttp: (ctx: X87Context) => (cpuidValues(ctx as SoftCpu, 1, 0)[2]! & 1) !== 0,
  unsignalledError: (_ctx: X87Context, detail: string): never => {
    throw new ExitSignal({ reason: 'invalid', detail: `soft: ${detail}` });
  },
};

/** Runs an x87 escape instruction (opcode D8-DF of the one-byte map). */
export function executeX87(cpu: SoftCpu, insn: Instruction): void {
  executeX87On(cpu, insn, SOFT_X87);
}

/** FWAIT's x87 part: any pending unmasked exception (#MF, or the FERR# exit). */
export function fwaitX87(cpu: SoftCpu, insn: Instruction): void {
  raisePendingX87(cpu, insn, SOFT_X87);
  advance(cpu, insn);
}
