/**
 * The x87/MMX/SSE state of the instruction the memory assist emulates: loaded from getState's
 * fpu group (and CR0/CR4 from crs) into the context's VectorContext/X87Context fields, only for
 * the x87 and SSE/MMX instructions; afterwards, what changed goes back in the same setState as
 * the registers. st/xmm go back whole (setState takes all 8/16 rows) when any byte changed.
 */
import type { Crs, Fpu, Segs } from '../../api/types.js';

const SEG_KEYS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

/** The fields of the context the SSE/MMX and x87 layers read and write. */
export interface FpuFields {
  fcw: number; fsw: number; ftw: number; fop: number; fip: bigint; fdp: bigint; mxcsr: number;
  /** The backend's MXCSR_MASK (read only: what FXSAVE stores, what LDMXCSR/FXRSTOR accept). */
  mxcsrMask: number;
  readonly st: Uint8Array[];
  readonly xmm: Uint8Array[];
  cr0: number; cr4: number; xcr0: number;
  readonly segSel: number[];
  readonly segBase: number[];
}

/** What was loaded, to tell what changed. */
export class FpuSnapshot {
  private fpu: Fpu | undefined;

  /** Copies fpu, CR0/CR4 and the segment selectors/bases into ctx (ctx's rows are its own). */
  load(ctx: FpuFields, fpu: Fpu, crs: Crs, segs: Segs, mode: 16 | 32 | 64): void {
    this.fpu = fpu;
    ctx.fcw = fpu.fcw; ctx.fsw = fpu.fsw; ctx.ftw = fpu.ftw; ctx.fop = fpu.fop;
    ctx.fip = fpu.fip; ctx.fdp = fpu.fdp; ctx.mxcsr = fpu.mxcsr; ctx.mxcsrMask = fpu.mxcsrMask;
    for (let k = 0; k < 8; k++) ctx.st[k] = fpu.st[k]!.slice(0, 10);
    for (let k = 0; k < 16; k++) ctx.xmm[k] = fpu.xmm[k]!.slice(0, 16);
    // CR0 and CR4 bits 63:32 are reserved zero: the low halves are the registers.
    ctx.cr0 = Number(crs.cr0 & 0xffffffffn) | 0;
    ctx.cr4 = Number(crs.cr4 & 0xffffffffn) | 0;
    // Only XCR0 bits 0-1 (x87, SSE) matter to the XSAVE forms here.
    ctx.xcr0 = Number(crs.xcr0 & 0xffffffffn) | 0;
    for (let s = 0; s < 6; s++) {
      const seg = segs[SEG_KEYS[s]!];
      ctx.segSel[s] = seg.selector;
      ctx.segBase[s] = mode === 64 ? Number(BigInt.asIntN(64, seg.base)) : Number(seg.base & 0xffffffffn);
    }
  }

  get loaded(): boolean {
    return this.fpu !== undefined;
  }

  forget(): void {
    this.fpu = undefined;
  }

  /** The fpu fields that differ from what was loaded (undefined: nothing, or nothing loaded). */
  changes(ctx: FpuFields): Partial<Fpu> | undefined {
    const f = this.fpu;
    if (f === undefined) return undefined;
    const out: Partial<Fpu> = {};
    let any = false;
    const set = <K extends keyof Fpu>(k: K, v: Fpu[K]): void => { out[k] = v; any = true; };
    if (ctx.fcw !== f.fcw) set('fcw', ctx.fcw);
    if (ctx.fsw !== f.fsw) set('fsw', ctx.fsw);
    if (ctx.ftw !== f.ftw) set('ftw', ctx.ftw);
    if (ctx.fop !== f.fop) set('fop', ctx.fop);
    if (ctx.fip !== f.fip) set('fip', ctx.fip);
    if (ctx.fdp !== f.fdp) set('fdp', ctx.fdp);
    if (ctx.mxcsr !== f.mxcsr) set('mxcsr', ctx.mxcsr >>> 0);
    if (rowsDiffer(ctx.st, f.st, 10)) set('st', ctx.st.map((r) => r.slice()));
    if (rowsDiffer(ctx.xmm, f.xmm, 16)) set('xmm', ctx.xmm.map((r) => r.slice()));
    return any ? out : undefined;
  }
}

function rowsDiffer(now: Uint8Array[], before: Uint8Array[], width: number): boolean {
  for (let k = 0; k < now.length; k++) {
    const a = now[k]!, b = before[k]!;
    for (let i = 0; i < width; i++) if (a[i] !== b[i]) return true;
  }
  return false;
}
