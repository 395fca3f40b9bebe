/**
 * XSAVE, XSAVEOPT and XRSTOR (standard form) for XCR0 = x87 | SSE (Intel SDM vol. 1 ch. 13, vol. 2),
 * shared by the soft CPU (its xsave.ts adds XGETBV/XSETBV and CPUID) and the assists.
 *
 * XINUSE is tracked by value: a component counts as in use unless it is in its initial
 * configuration (SDM 13.6), the tightest tracking the SDM allows and what the AMD host reports
 * (checked by test/xsave). XSAVEOPT uses that init optimization (components not in use are not
 * written, MXCSR still is) but not the modified optimization: it always writes what is in use.
 * The legacy region's layout is FXSAVE's (fxsave.ts legacyImage); only the component ranges are
 * written (bytes 416-511 and the header past XSTATE_BV are left alone, as on hardware).
 */
import { X86Fault } from '../exec/context.js';
import { advance } from '../exec/address.js';
import type { Instruction } from '../instruction.js';
import type { X87Selectors } from './context.js';
import { initFpu } from './control.js';
import { imageMxcsr, legacyImage, loadLegacyX87, loadLegacyXmm, xmmCount, type FpuStateContext } from './fxsave.js';
import { memAddress } from './memory.js';

/** XCR0 / XSTATE_BV component bits (SDM vol. 1, 13.1). */
export const XFEATURE_X87 = 1, XFEATURE_SSE = 2;
/** The components this model keeps. */
export const XCR0_SUPPORTED = XFEATURE_X87 | XFEATURE_SSE;
/** XSAVE area size for x87 | SSE: the 512-byte legacy region and the 64-byte header. */
export const XSAVE_AREA_SIZE = 576;
const HEADER = 512;

/** Byte ranges [start, end) of the legacy region each part occupies (SDM vol. 1, 13.4.1). */
const X87_RANGES: readonly (readonly [number, number])[] = [[0, 24], [32, 160]];
const MXCSR_RANGE = [24, 32] as const;

const CR0_TS = 1 << 3, CR4_OSXSAVE = 1 << 18;

export type XsaveContext = FpuStateContext & { xcr0: number };

/** What the runner adds: the x87 selectors, its MXCSR mask, and whether CPUID offers XSAVE. */
export interface XsaveEnv { sel: X87Selectors; mxcsrMask: number; offered: boolean }

const gp0 = (why: string): X86Fault => new X86Fault(13, 0, why);
const ud = (insn: Instruction, why: string): X86Fault => new X86Fault(6, undefined, `${insn.mnemonic}: ${why}`);

/** #UD unless XSAVE is offered (the vCPU's CPUID) and enabled (CR4.OSXSAVE); LOCK is the decoder's #UD. */
export function requireXsave(ctx: XsaveContext, insn: Instruction, offered: boolean): void {
  if (!offered) throw ud(insn, 'XSAVE is not offered (CPUID.1:ECX.XSAVE = 0)');
  if (!(ctx.cr4 & CR4_OSXSAVE)) throw ud(insn, 'CR4.OSXSAVE is clear');
}

/** EDX:EAX as a component mask; only bits 0-1 can survive the AND with XCR0, so 32 bits suffice. */
function requestedFeatures(ctx: XsaveContext): number {
  return ctx.regs[0]! & ctx.xcr0 & XCR0_SUPPORTED;
}

/** x87 state in its initial configuration (SDM vol. 1, 13.6): as after FNINIT with ST0-7 = 0. */
function x87IsInit(ctx: XsaveContext, s: X87Selectors): boolean {
  return ctx.fcw === 0x37f && ctx.fsw === 0 && ctx.ftw === 0 && ctx.fop === 0 && ctx.fip === 0n &&
    ctx.fdp === 0n && s.fcs === 0 && s.fds === 0 && ctx.st.every((r) => r.every((b) => b === 0));
}

/** SSE state in its initial configuration: every XMM register 0 (MXCSR does not count). */
function sseIsInit(ctx: XsaveContext): boolean {
  return ctx.xmm.every((r) => r.every((b) => b === 0));
}

/** XINUSE for bits 0-1. */
export function xinuse(ctx: XsaveContext, sel: X87Selectors): number {
  return (x87IsInit(ctx, sel) ? 0 : XFEATURE_X87) | (sseIsInit(ctx) ? 0 : XFEATURE_SSE);
}

/** The checks every XSAVE/XRSTOR form makes, in the SDM's order; returns the area's offset. */
function checkArea(ctx: XsaveContext, insn: Instruction, env: XsaveEnv): number {
  requireXsave(ctx, insn, env.offered);
  if (ctx.cr0 & CR0_TS) throw new X86Fault(7, undefined, `${insn.mnemonic} with CR0.TS/EM set`);
  const a = memAddress(ctx, insn);
  // The low bits as an int32: a double % compiles to an fmod call.
  if ((a & 63) !== 0) throw gp0(`${insn.mnemonic} operand 0x${a.toString(16)} not 64-byte aligned`);
  return a;
}

const word = (b: Uint8Array, k: number): number => b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24);

/**
 * Writes the ranges [start, end) of img at the area: in the order given, 4 bytes at a time; or,
 * with block access, as ascending runs of adjacent ranges.
 */
function writeRanges(ctx: XsaveContext, seg: number, a: number, img: Uint8Array, ranges: (readonly [number, number])[]): void {
  if (ctx.writeBlock !== undefined) {
    const runs: [number, number][] = [];
    for (const [s, e] of [...ranges].sort((x, y) => x[0] - y[0])) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === s) last[1] = e; else runs.push([s, e]);
    }
    for (const [s, e] of runs) ctx.writeBlock(seg, a + s, img.subarray(s, e));
    return;
  }
  for (const [s, e] of ranges) for (let k = s; k < e; k += 4) ctx.write(seg, a + k, 4, word(img, k), 0);
}

function readRange(ctx: XsaveContext, seg: number, a: number, start: number, end: number): Uint8Array {
  const b = new Uint8Array(end - start);
  if (ctx.readBlock !== undefined) {
    ctx.readBlock(seg, a + start, b);
    return b;
  }
  for (let k = 0; k < b.length; k += 4) {
    const v = ctx.read(seg, a + start + k, 4);
    b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
  }
  return b;
}

/** XSAVE and XSAVEOPT (REX.W: the 64-bit FIP/FDP format). */
export function xsaveArea(ctx: XsaveContext, insn: Instruction, opt: boolean, env: XsaveEnv): void {
  const a = checkArea(ctx, insn, env);
  const seg = insn.mem!.seg;
  const rfbm = requestedFeatures(ctx);
  const inUse = xinuse(ctx, env.sel);
  const store = opt ? rfbm & inUse : rfbm;
  // Read XSTATE_BV first: it is written back with the requested bits replaced.
  const header = readRange(ctx, seg, a, HEADER, HEADER + 8);
  const img = new Uint8Array(HEADER + 8);
  img.set(legacyImage(ctx, insn.opSize === 8, env.sel, env.mxcsrMask));
  header[0] = (header[0]! & ~rfbm) | (inUse & rfbm);
  img.set(header, HEADER);
  const ranges: (readonly [number, number])[] = [];
  if (store & XFEATURE_X87) ranges.push(...X87_RANGES);
  if (rfbm & XFEATURE_SSE) ranges.push(MXCSR_RANGE);
  if (store & XFEATURE_SSE) ranges.push([160, 160 + 16 * xmmCount(ctx)]);
  ranges.push([HEADER, HEADER + 8]);
  writeRanges(ctx, seg, a, img, ranges);
  advance(ctx, insn);
}

const hex64 = (b: Uint8Array): string => Array.from(b).reverse().map((x) => x.toString(16).padStart(2, '0')).join('');

/** XRSTOR, standard form: header checks, then each requested component loaded or initialized. */
export function xrstorArea(ctx: XsaveContext, insn: Instruction, env: XsaveEnv): void {
  const a = checkArea(ctx, insn, env);
  const seg = insn.mem!.seg;
  const rfbm = requestedFeatures(ctx);
  const header = readRange(ctx, seg, a, HEADER, HEADER + 24);
  const xstateBv = header.subarray(0, 8), xcompBv = header.subarray(8, 16), reserved = header.subarray(16, 24);
  if (xcompBv.some((b) => b !== 0)) {
    // XCOMP_BV[63] = 1 asks for the compacted form, which this model does not offer (no XSAVEC).
    throw gp0(`XRSTOR: XCOMP_BV = 0x${hex64(xcompBv)} (compacted form not supported, standard form needs 0)`);
  }
  if (reserved.some((b) => b !== 0)) throw gp0(`XRSTOR: XSAVE header bytes 23:16 = 0x${hex64(reserved)}, must be 0`);
  if (xstateBv.some((b, k) => (k === 0 ? b & ~ctx.xcr0 : b) !== 0)) {
    throw gp0(`XRSTOR: XSTATE_BV 0x${hex64(xstateBv)} has bits outside XCR0 0x${ctx.xcr0.toString(16)}`);
  }
  const legacy = readRange(ctx, seg, a, 0, 512);
  // The standard form loads MXCSR whenever SSE is requested, whatever XSTATE_BV[1] says.
  const mxcsr = rfbm & XFEATURE_SSE ? imageMxcsr(legacy, 'XRSTOR', env.mxcsrMask) : ctx.mxcsr;
  const bv = xstateBv[0]!;
  if (rfbm & XFEATURE_X87) {
    if (bv & XFEATURE_X87) {
      loadLegacyX87(ctx, legacy, insn.opSize === 8, env.sel);
    } else {
      initFpu(ctx, env.sel);
      for (const r of ctx.st) r.fill(0);
    }
  }
  if (rfbm & XFEATURE_SSE) {
    if (bv & XFEATURE_SSE) loadLegacyXmm(ctx, legacy);
    else for (let k = 0; k < xmmCount(ctx); k++) ctx.xmm[k]!.fill(0);
    ctx.mxcsr = mxcsr;
  }
  advance(ctx, insn);
}
