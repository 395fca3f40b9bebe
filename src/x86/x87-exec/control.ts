/**
 * The x87 control instructions: FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT, FNSTENV/FLDENV and
 * FNSAVE/FRSTOR (layouts in env-image.ts). The selectors of the last instruction and operand that
 * the environment images carry are the platform's (context.ts).
 */
import type { Instruction } from '../instruction.js';
import type { X87Context, X87Platform, X87Selectors } from './context.js';
import { envSize, loadEnv, loadSave, storeEnv, storeSave, type EnvLayout, type EnvPointers } from './env-image.js';
import { readBytes, writeBytes } from './memory.js';
import type { Run } from './ops.js';
import { FSW_B, retop, updateSummary } from './regs.js';

const CR0_PE = 1, RFLAGS_VM = 1 << 17;

function layout(ctx: X87Context, insn: Instruction): EnvLayout {
  return { wide: insn.opSize !== 2, real: !(ctx.cr0 & CR0_PE) || (ctx.flags & RFLAGS_VM) !== 0 };
}

/** FLDCW: reserved bit 6 reads as 1 and bits 13-15 as 0 (checked against the host). */
export const fldcw: Run = (ctx, insn) => {
  const b = readBytes(ctx, insn, 2);
  ctx.fcw = ((b[0]! | (b[1]! << 8)) & 0x1f3f) | 0x40;
  updateSummary(ctx);
};
export const fnstcw: Run = (ctx, insn) => writeBytes(ctx, insn, Uint8Array.of(ctx.fcw & 0xff, ctx.fcw >>> 8));
export const fnstswMem: Run = (ctx, insn) => writeBytes(ctx, insn, Uint8Array.of(ctx.fsw & 0xff, ctx.fsw >>> 8));
export const fnstswAx: Run = (ctx) => { ctx.regs[0] = (ctx.regs[0]! & ~0xffff) | ctx.fsw; };
export const fnclex: Run = (ctx) => { ctx.fsw &= ~(0xff | FSW_B); };

/** FNINIT's state (also the state XRSTOR gives an x87 component it does not load). */
export function initFpu(ctx: X87Context, sel: X87Selectors): void {
  retop(ctx, 0);
  ctx.fcw = 0x37f; ctx.fsw = 0; ctx.ftw = 0; ctx.fop = 0; ctx.fip = 0n; ctx.fdp = 0n;
  sel.fcs = 0; sel.fds = 0; sel.dsBase = 0;
}
export const fninit: Run = (ctx, _insn, _env, platform) => initFpu(ctx, platform.selectors(ctx));

function pointers(ctx: X87Context, sel: X87Selectors): EnvPointers {
  return { fcs: sel.fcs, fds: sel.fds, csBase: ctx.segBase[1]!, dsBase: sel.dsBase };
}

export const fnstenv: Run = (ctx, insn, _env, platform) => {
  writeBytes(ctx, insn, storeEnv(ctx, layout(ctx, insn), pointers(ctx, platform.selectors(ctx))));
  ctx.fcw |= 0x3f;
  updateSummary(ctx);
};
export const fldenv: Run = (ctx, insn, _env, platform) => {
  const l = layout(ctx, insn);
  const sel = loadEnv(ctx, readBytes(ctx, insn, envSize(l)), l);
  Object.assign(platform.selectors(ctx), sel);
};
export const fnsave: Run = (ctx, insn, _env, platform) => {
  const sel = platform.selectors(ctx);
  writeBytes(ctx, insn, storeSave(ctx, layout(ctx, insn), pointers(ctx, sel)));
  initFpu(ctx, sel);
};
export const frstor: Run = (ctx, insn, _env, platform) => {
  const l = layout(ctx, insn);
  const sel = loadSave(ctx, readBytes(ctx, insn, envSize(l) + 80), l);
  Object.assign(platform.selectors(ctx), sel);
};
