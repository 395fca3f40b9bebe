/**
 * The x87/SSE state instructions outside the escapes, shared by the soft CPU and the assists:
 * FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, and the 512-byte legacy image that XSAVE (the soft CPU's
 * xsave.ts) shares. The caller gives the x87 selectors record (FCS/FDS: X87Platform) and the
 * MXCSR mask (the bits MXCSR may hold: what the image stores at bytes 28-31 and what LDMXCSR and
 * FXRSTOR accept).
 */
import { X86Fault } from '../exec/context.js';
import { advance } from '../exec/address.js';
import type { Instruction } from '../instruction.js';
import type { VectorContext } from '../sse/context.js';
import type { X87Context, X87Selectors } from './context.js';
import { memAddress } from './memory.js';
import { updateSummary } from './regs.js';

/** What these instructions run over: the x87 and the SSE state. */
export type FpuStateContext = X87Context & VectorContext;

const CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR4_OSFXSR = 1 << 9;

const gp0 = (why: string): X86Fault => new X86Fault(13, 0, why);
const ud = (insn: Instruction, why: string): X86Fault => new X86Fault(6, undefined, `${insn.mnemonic}: ${why}`);

export function deviceNotAvailable(insn: Instruction): X86Fault {
  return new X86Fault(7, undefined, `${insn.mnemonic} with CR0.TS/EM set`);
}

function checkFxsr(ctx: FpuStateContext, insn: Instruction): void {
  if ((ctx.cr0 & CR0_EM)) throw ud(insn, 'CR0.EM set');
  if (ctx.cr0 & CR0_TS) throw deviceNotAvailable(insn);
}

function checkAligned(ctx: FpuStateContext, insn: Instruction): number {
  checkFxsr(ctx, insn);
  const a = memAddress(ctx, insn);
  // The low bits as an int32: a double % compiles to an fmod call.
  if ((a & 15) !== 0) throw gp0(`${insn.mnemonic} operand 0x${a.toString(16)} not 16-byte aligned`);
  return a;
}

/** XMM registers the legacy image holds: 16 in 64-bit mode, else 8. */
export function xmmCount(ctx: FpuStateContext): number {
  return ctx.mode === 64 ? 16 : 8;
}

/**
 * The 512-byte FXSAVE image of the current state: the one copy of the legacy-region layout.
 * Without REX.W, FIP/FDP are stored as 32 bits with the FCS/FDS words beside them (the x87
 * selectors; 0 after a REX.W restore), as the AMD host does.
 */
export function legacyImage(ctx: FpuStateContext, wide: boolean, sel: X87Selectors, mxcsrMask: number): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, ctx.fcw, true);
  dv.setUint16(2, ctx.fsw, true);
  b[4] = ctx.ftw;
  dv.setUint16(6, ctx.fop, true);
  if (wide) {
    dv.setBigUint64(8, ctx.fip, true);
    dv.setBigUint64(16, ctx.fdp, true);
  } else {
    dv.setUint32(8, Number(ctx.fip & 0xffffffffn), true);
    dv.setUint16(12, sel.fcs, true);
    dv.setUint32(16, Number(ctx.fdp & 0xffffffffn), true);
    dv.setUint16(20, sel.fds, true);
  }
  dv.setUint32(24, ctx.mxcsr, true);
  dv.setUint32(28, mxcsrMask, true);
  for (let k = 0; k < 8; k++) b.set(ctx.st[k]!, 32 + 16 * k);
  const nXmm = xmmCount(ctx);
  for (let k = 0; k < nXmm; k++) b.set(ctx.xmm[k]!, 160 + 16 * k);
  return b;
}

/** MXCSR from a legacy image, #GP(0) for reserved bits (before anything is loaded). */
export function imageMxcsr(b: Uint8Array, what: string, mxcsrMask: number): number {
  const mxcsr = new DataView(b.buffer, b.byteOffset).getUint32(24, true);
  if (mxcsr & ~mxcsrMask) throw gp0(`${what}: reserved MXCSR bits in 0x${mxcsr.toString(16)}`);
  return mxcsr;
}

/**
 * Loads the x87 part of a legacy image. FCW's reserved bits and FOP's top five read back as the
 * host shows them (FLDCW's rule; FOP is 11 bits) and ES/B follow the flags and masks. Without
 * REX.W, FIP/FDP are 32 bits with the FCS/FDS words beside them (kept as the x87 selectors).
 */
export function loadLegacyX87(ctx: FpuStateContext, b: Uint8Array, wide: boolean, sel: X87Selectors): void {
  const dv = new DataView(b.buffer, b.byteOffset);
  ctx.fcw = (dv.getUint16(0, true) & 0x1f3f) | 0x40;
  ctx.fsw = dv.getUint16(2, true); ctx.ftw = b[4]!;
  ctx.fop = dv.getUint16(6, true) & 0x7ff;
  if (wide) {
    ctx.fip = dv.getBigUint64(8, true); ctx.fdp = dv.getBigUint64(16, true);
    sel.fcs = 0; sel.fds = 0;
  } else {
    ctx.fip = BigInt(dv.getUint32(8, true)); ctx.fdp = BigInt(dv.getUint32(16, true));
    sel.fcs = dv.getUint16(12, true); sel.fds = dv.getUint16(20, true);
  }
  updateSummary(ctx);
  for (let k = 0; k < 8; k++) ctx.st[k]!.set(b.subarray(32 + 16 * k, 42 + 16 * k));
}

/** Loads the XMM registers of a legacy image (MXCSR is the caller's: XRSTOR treats it apart). */
export function loadLegacyXmm(ctx: FpuStateContext, b: Uint8Array): void {
  const nXmm = xmmCount(ctx);
  for (let k = 0; k < nXmm; k++) ctx.xmm[k]!.set(b.subarray(160 + 16 * k, 176 + 16 * k));
}

const word = (b: Uint8Array, k: number): number => b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24);

export function fxsave(ctx: FpuStateContext, insn: Instruction, sel: X87Selectors, mxcsrMask: number): void {
  const a = checkAligned(ctx, insn);
  const img = legacyImage(ctx, insn.opSize === 8, sel, mxcsrMask);
  const seg = insn.mem!.seg;
  if (ctx.writeBlock !== undefined) {
    ctx.writeBlock(seg, a, img);
  } else {
    // Probe the last byte first so a fault on the second page leaves memory untouched.
    ctx.write(seg, a + 511, 1, img[511]!, 0);
    for (let k = 0; k < 512; k += 4) ctx.write(seg, a + k, 4, word(img, k), 0);
  }
  advance(ctx, insn);
}

export function fxrstor(ctx: FpuStateContext, insn: Instruction, sel: X87Selectors, mxcsrMask: number): void {
  const a = checkAligned(ctx, insn);
  const seg = insn.mem!.seg;
  const b = new Uint8Array(512);
  if (ctx.readBlock !== undefined) {
    ctx.readBlock(seg, a, b);
  } else {
    for (let k = 0; k < 512; k += 4) {
      const v = ctx.read(seg, a + k, 4);
      b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
    }
  }
  ctx.mxcsr = imageMxcsr(b, 'FXRSTOR', mxcsrMask);
  loadLegacyX87(ctx, b, insn.opSize === 8, sel);
  loadLegacyXmm(ctx, b);
  advance(ctx, insn);
}

function checkSse(ctx: FpuStateContext, insn: Instruction): void {
  if ((ctx.cr0 & CR0_EM) || !(ctx.cr4 & CR4_OSFXSR)) throw ud(insn, 'CR0.EM set or CR4.OSFXSR clear');
  if (ctx.cr0 & CR0_TS) throw deviceNotAvailable(insn);
}

export function ldmxcsr(ctx: FpuStateContext, insn: Instruction, mxcsrMask: number): void {
  checkSse(ctx, insn);
  const v = ctx.read(insn.mem!.seg, memAddress(ctx, insn), 4) >>> 0;
  if (v & ~mxcsrMask) throw gp0(`LDMXCSR: reserved bits in 0x${v.toString(16)}`);
  ctx.mxcsr = v;
  advance(ctx, insn);
}

export function stmxcsr(ctx: FpuStateContext, insn: Instruction): void {
  checkSse(ctx, insn);
  ctx.write(insn.mem!.seg, memAddress(ctx, insn), 4, ctx.mxcsr, 0);
  advance(ctx, insn);
}
