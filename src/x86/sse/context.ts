/**
 * What the SSE/MMX layer needs beyond the executor's ExecContext: the vector register file and
 * the control bits that gate it. The soft CPU (src/backends/soft/cpu.ts) satisfies it as is; the
 * assists' emulator (src/x86/assist/emul-context.ts) over a getState snapshot (fpu, crs). Kept
 * here rather than in ExecContext so the general-purpose executor stays free of vector state.
 *
 * x87/MMX layout (shared with the x87 implementation): st[k] holds ST(k) in stack order, 10
 * bytes each (64-bit significand, then sign+exponent); TOP is fsw bits 11-13; ftw is the
 * abridged tag (bit = register valid). MMX register i is x87 physical register i, physical =
 * (k + TOP) & 7, and its value is the significand bytes 0-7.
 */
import type { ExecContext } from '../exec/context.js';
import { X86Fault } from '../exec/context.js';
import type { BlockAccess } from '../exec/block-access.js';

/** A 16-byte operand goes through readBlock/writeBlock when the context has them (BlockAccess). */
export interface VectorContext extends ExecContext, BlockAccess {
  /** XMM0..15, 16 bytes each (little-endian lanes). */
  readonly xmm: Uint8Array[];
  /**
   * The same registers as four 32-bit lanes each (views of xmm[n]'s bytes), where the context
   * keeps its registers in place: moving a register through them costs a third of a 16-byte
   * TypedArray set() here. Absent where xmm's arrays may be replaced (the assists' snapshot).
   */
  readonly xmm32?: readonly Int32Array[];
  /** ST(0)..ST(7) in stack order, 10 bytes each; the array's slots may be re-pointed (MMX). */
  readonly st: Uint8Array[];
  fsw: number;
  ftw: number;
  /** MXCSR (the floating-point forms read its controls and set its flags). */
  mxcsr: number;
  cr0: number;
  cr4: number;
  /** Segment bases (es cs ss ds fs gs), for the alignment check on linear addresses; absent: 0. */
  readonly segBase?: ArrayLike<number>;
}

export const CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_NE = 1 << 5;
export const CR4_OSFXSR = 1 << 9;
/** FSW.ES: an unmasked x87 exception is pending. */
const FSW_ES = 1 << 7;
const FSW_TOP = 7 << 11;

/** Which state an instruction form touches, for its #UD/#NM/#MF checks. */
export const enum Uses {
  /** No vector state (MOVNTI): no CR0/CR4 checks. */
  None = 0,
  /** MMX registers: CR0.EM -> #UD, CR0.TS -> #NM, pending x87 exception -> #MF; x87 state goes to MMX mode. */
  Mmx = 1,
  /** XMM registers: CR0.EM or !CR4.OSFXSR -> #UD, CR0.TS -> #NM. */
  Xmm = 2,
}

/** The architectural checks before an instruction touches vector state (SDM vol. 3 table 13-1, 22-7). */
export function checkAvailable(ctx: VectorContext, uses: number, name: string): void {
  if (uses === Uses.None) return;
  if (ctx.cr0 & CR0_EM) throw new X86Fault(6, undefined, `${name}: CR0.EM is set`);
  if (uses & Uses.Xmm && !(ctx.cr4 & CR4_OSFXSR)) throw new X86Fault(6, undefined, `${name}: CR4.OSFXSR is clear`);
  if (ctx.cr0 & CR0_TS) throw new X86Fault(7, undefined, `${name}: CR0.TS is set`);
  // With CR0.NE clear a pending x87 error is signalled through FERR#, which this model has no
  // pin for; such guests (MS-DOS style error reporting) see no #MF.
  if (uses & Uses.Mmx && ctx.fsw & FSW_ES && ctx.cr0 & CR0_NE) {
    throw new X86Fault(16, undefined, `${name}: x87 exception pending (FSW 0x${ctx.fsw.toString(16)})`);
  }
}

/** Where MMX register i lives in ctx.st before the x87 -> MMX transition (physical i = ST((i - TOP) & 7)). */
export function mmxSlot(ctx: VectorContext, i: number): Uint8Array {
  return ctx.st[(i - ((ctx.fsw & FSW_TOP) >> 11)) & 7]!;
}

/**
 * The x87 -> MMX transition every MMX instruction but EMMS makes: TOP = 0 and all tags valid.
 * st[] is re-pointed so that st[i] is physical register i (= MMX register i) again.
 */
export function enterMmx(ctx: VectorContext): void {
  const top = (ctx.fsw & FSW_TOP) >> 11;
  if (top !== 0) {
    const old = ctx.st.slice();
    for (let p = 0; p < 8; p++) ctx.st[p] = old[(p - top) & 7]!;
    ctx.fsw &= ~FSW_TOP;
  }
  ctx.ftw = 0xff;
}

/** MMX register i's 8 bytes after enterMmx; an MMX write also sets sign+exponent to all ones. */
export function writeMmx(ctx: VectorContext, i: number, bytes: Uint8Array): void {
  const r = ctx.st[i]!;
  for (let k = 0; k < 8; k++) r[k] = bytes[k]!;
  r[8] = 0xff; r[9] = 0xff;
}

/** EMMS: every x87 register empty. */
export function emms(ctx: VectorContext): void {
  ctx.ftw = 0;
}
