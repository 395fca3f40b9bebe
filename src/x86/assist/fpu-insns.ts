/**
 * The instructions the memory assist runs over the x87/SSE state (the fpu group): the x87
 * escapes (src/x86/x87-exec), the SSE/MMX forms (src/x86/sse), and the state instructions
 * FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/XRSTOR, LDMXCSR/STMXCSR (x87-exec/fxsave.ts, xsave-area.ts),
 * the same code the soft CPU runs, with the backend's MXCSR mask from the fpu group.
 */
import type { Instruction } from '../instruction.js';
import { executeVector, vectorFormName } from '../sse/index.js';
import { executeX87, isX87 } from '../x87-exec/index.js';
import { fxrstor, fxsave, ldmxcsr, stmxcsr } from '../x87-exec/fxsave.js';
import { xrstorArea, xsaveArea, type XsaveEnv } from '../x87-exec/xsave-area.js';
import type { EmulContext } from './emul-context.js';
import { ASSIST_X87 } from './x87-platform.js';

/** Runs insn over ctx; false: a form the layer knows by name but does not implement. */
export type FpuRun = (ctx: EmulContext, insn: Instruction) => boolean;

/** XSAVE is offered: the CPU that exited ran the instruction as far as its memory access (#UD comes first). */
function xsaveEnv(ctx: EmulContext): XsaveEnv {
  return { sel: ASSIST_X87.selectors(ctx), mxcsrMask: ctx.mxcsrMask, offered: true };
}

const done = (run: (ctx: EmulContext, insn: Instruction) => void): FpuRun => (ctx, insn) => { run(ctx, insn); return true; };

/**
 * An SSE/MMX form: run when the model has it. One it lacks (AES-NI, SHA, VEX...) is not
 * emulated (false: ENOTSUP), not #UD as the soft CPU raises for it: the CPU that exited ran it.
 */
const vector: FpuRun = (ctx, insn) => vectorFormName(insn) !== undefined && executeVector(ctx, insn) === undefined;

const BY_MNEMONIC = new Map<string, FpuRun>([
  ['sse', vector], ['movnti', vector],
  ['fxsave', done((ctx, insn) => fxsave(ctx, insn, ASSIST_X87.selectors(ctx), ctx.mxcsrMask))],
  ['fxrstor', done((ctx, insn) => fxrstor(ctx, insn, ASSIST_X87.selectors(ctx), ctx.mxcsrMask))],
  ['ldmxcsr', done((ctx, insn) => ldmxcsr(ctx, insn, ctx.mxcsrMask))],
  ['stmxcsr', done((ctx, insn) => stmxcsr(ctx, insn))],
  ['xsave', done((ctx, insn) => xsaveArea(ctx, insn, false, xsaveEnv(ctx)))],
  ['xsaveopt', done((ctx, insn) => xsaveArea(ctx, insn, true, xsaveEnv(ctx)))],
  ['xrstor', done((ctx, insn) => xrstorArea(ctx, insn, xsaveEnv(ctx)))],
]);

const X87: FpuRun = done((ctx, insn) => executeX87(ctx, insn, ASSIST_X87));

/** How to run insn over the fpu group, or undefined for the general-purpose executor's instructions. */
export function fpuRunOf(insn: Instruction): FpuRun | undefined {
  return isX87(insn) ? X87 : BY_MNEMONIC.get(insn.mnemonic);
}
