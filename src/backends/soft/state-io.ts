/**
 * getState/setState for the soft CPU: converts between the contract's BigInt state groups
 * (src/api/types.ts) and the CPU's int32 halves / numbers. Only this boundary uses BigInt.
 */
import {
  GPR_NAMES, State, type Fpu, type Segment, type SegName, type VcpuState, type VcpuStateInput,
} from '../../api/types.js';
import { VmmError } from '../../api/errors.js';
import { RIP_LO } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import {
  ATTR_AVL, ATTR_DEF, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0_PE, RFLAGS_LIVE, SLOT_LDTR, SLOT_TR,
} from './state.js';
import { badXcr0 } from './xsave.js';

const SLOT_OF: Record<Exclude<SegName, 'gdt' | 'idt'>, number> = {
  es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5, ldt: SLOT_LDTR, tr: SLOT_TR,
};

/** A signed or unsigned address number as the 64-bit bigint the API speaks. */
export function u64(v: number): bigint {
  return BigInt.asUintN(64, BigInt(v));
}
/** A 64-bit bigint as a signed number (exact for canonical addresses). */
function s64(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}
function pair(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function segmentOut(cpu: SoftCpu, slot: number): Segment {
  const a = cpu.segAttr[slot]!;
  return {
    selector: cpu.segSel[slot]! & 0xffff,
    base: u64(cpu.segBase[slot]!),
    limit: cpu.segLimit[slot]! >>> 0,
    type: a & 0xf,
    s: a & ATTR_S ? 1 : 0,
    dpl: (a >>> 5) & 3,
    p: a & ATTR_P ? 1 : 0,
    avl: a & ATTR_AVL ? 1 : 0,
    l: a & ATTR_L ? 1 : 0,
    def: a & ATTR_DEF ? 1 : 0,
    g: a & ATTR_G ? 1 : 0,
  };
}

function segmentIn(cpu: SoftCpu, slot: number, s: Partial<Segment>): void {
  const cur = segmentOut(cpu, slot);
  const v = { ...cur, ...s };
  cpu.segSel[slot] = v.selector & 0xffff;
  cpu.segBase[slot] = s64(v.base);
  cpu.segLimit[slot] = v.limit >>> 0;
  cpu.segAttr[slot] = (v.type & 0xf) | (v.s ? ATTR_S : 0) | ((v.dpl & 3) << 5) | (v.p ? ATTR_P : 0) |
    (v.avl ? ATTR_AVL : 0) | (v.l ? ATTR_L : 0) | (v.def ? ATTR_DEF : 0) | (v.g ? ATTR_G : 0);
}

function tableOut(base: number, limit: number): Segment {
  return { selector: 0, base: u64(base), limit, type: 0, s: 0, dpl: 0, p: 0, avl: 0, l: 0, def: 0, g: 0 };
}

export function getSoftState(cpu: SoftCpu, flags: number): Partial<VcpuState> {
  const out: Partial<VcpuState> = {};
  if (flags & State.GPRS) {
    const g = {} as VcpuState['gprs'];
    GPR_NAMES.forEach((name, n) => { g[name] = pair(cpu.regs[2 * n]!, cpu.regs[2 * n + 1]!); });
    g.rip = pair(cpu.regs[RIP_LO]!, cpu.regs[RIP_LO + 1]!);
    g.rflags = BigInt(cpu.flags >>> 0);
    out.gprs = g;
  }
  if (flags & State.SEGS) {
    out.segs = {
      es: segmentOut(cpu, 0), cs: segmentOut(cpu, 1), ss: segmentOut(cpu, 2), ds: segmentOut(cpu, 3),
      fs: segmentOut(cpu, 4), gs: segmentOut(cpu, 5), ldt: segmentOut(cpu, SLOT_LDTR), tr: segmentOut(cpu, SLOT_TR),
      gdt: tableOut(cpu.gdtBase, cpu.gdtLimit), idt: tableOut(cpu.idtBase, cpu.idtLimit),
    };
  }
  if (flags & State.CRS) {
    out.crs = {
      cr0: BigInt(cpu.cr0 >>> 0), cr2: u64(cpu.cr2), cr3: u64(cpu.cr3), cr4: BigInt(cpu.cr4 >>> 0),
      cr8: BigInt(cpu.cr8), xcr0: BigInt(cpu.xcr0),
    };
  }
  if (flags & State.DRS) {
    out.drs = {
      dr0: u64(cpu.dr[0]!), dr1: u64(cpu.dr[1]!), dr2: u64(cpu.dr[2]!), dr3: u64(cpu.dr[3]!),
      dr6: BigInt(cpu.dr6 >>> 0), dr7: BigInt(cpu.dr7 >>> 0),
    };
  }
  if (flags & State.MSRS) {
    out.msrs = {
      efer: BigInt(cpu.efer >>> 0), star: pair(cpu.starLo, cpu.starHi), lstar: u64(cpu.lstar), cstar: u64(cpu.cstar),
      sfmask: BigInt(cpu.sfmask >>> 0), kernelgsbase: u64(cpu.kernelGsBase), sysenterCs: BigInt(cpu.sysenterCs),
      sysenterEsp: u64(cpu.sysenterEsp), sysenterEip: u64(cpu.sysenterEip), pat: pair(cpu.patLo, cpu.patHi),
      tsc: u64(cpu.tsc()),
    };
  }
  if (flags & State.INTR) {
    out.intr = {
      intShadow: cpu.intShadow, intWindowExiting: cpu.intWindowExiting,
      nmiWindowExiting: cpu.nmiWindowExiting, evtPending: cpu.pending.length > 0,
    };
  }
  if (flags & State.FPU) {
    const fpu: Fpu = {
      fcw: cpu.fcw, fsw: cpu.fsw, ftw: cpu.ftw, fop: cpu.fop, fip: cpu.fip, fdp: cpu.fdp,
      mxcsr: cpu.mxcsr, mxcsrMask: 0xffff,
      st: cpu.st.map((r) => r.slice()), xmm: cpu.xmm.map((r) => r.slice()),
    };
    out.fpu = fpu;
  }
  return out;
}

export function setSoftState(cpu: SoftCpu, st: VcpuStateInput, flags: number): void {
  if ((flags & State.INTR) && st.intr?.evtPending === true && cpu.pending.length === 0) {
    // As on KVM: pending events come from inject(); setState cannot make one up (checked first,
    // so a refused call changes nothing).
    throw new VmmError('EINVAL', 'soft: intr.evtPending = true with no event pending: use inject() to queue one');
  }
  // The frontend checks xcr0 against capability().arch.xcr0Mask; this is XSETBV's rule itself,
  // checked before anything changes.
  const why = (flags & State.CRS) && st.crs?.xcr0 !== undefined ? badXcr0(st.crs.xcr0) : undefined;
  if (why) throw new VmmError('EINVAL', `soft: state.crs.xcr0: ${why}`);
  const cpl0 = cpu.cpl, mode0 = cpu.mode;
  if ((flags & State.CRS) && st.crs) {
    const c = st.crs;
    if (c.cr0 !== undefined) cpu.cr0 = Number(c.cr0 & 0xffffffffn) | 0;
    if (c.cr2 !== undefined) cpu.cr2 = s64(c.cr2);
    if (c.cr3 !== undefined) cpu.cr3 = Number(BigInt.asUintN(64, c.cr3));
    if (c.cr4 !== undefined) cpu.cr4 = Number(c.cr4 & 0xffffffffn) | 0;
    if (c.cr8 !== undefined) cpu.cr8 = Number(c.cr8 & 0xfn);
    if (c.xcr0 !== undefined) cpu.xcr0 = Number(c.xcr0);
  }
  if ((flags & State.MSRS) && st.msrs) {
    const m = st.msrs;
    if (m.efer !== undefined) cpu.efer = Number(m.efer & 0xffffffffn) | 0;
    if (m.star !== undefined) { cpu.starLo = Number(m.star & 0xffffffffn); cpu.starHi = Number((m.star >> 32n) & 0xffffffffn); }
    if (m.lstar !== undefined) cpu.lstar = s64(m.lstar);
    if (m.cstar !== undefined) cpu.cstar = s64(m.cstar);
    if (m.sfmask !== undefined) cpu.sfmask = Number(m.sfmask & 0xffffffffn);
    if (m.kernelgsbase !== undefined) cpu.kernelGsBase = s64(m.kernelgsbase);
    if (m.sysenterCs !== undefined) cpu.sysenterCs = Number(m.sysenterCs & 0xffffn);
    if (m.sysenterEsp !== undefined) cpu.sysenterEsp = s64(m.sysenterEsp);
    if (m.sysenterEip !== undefined) cpu.sysenterEip = s64(m.sysenterEip);
    if (m.pat !== undefined) { cpu.patLo = Number(m.pat & 0xffffffffn); cpu.patHi = Number((m.pat >> 32n) & 0xffffffffn); }
    if (m.tsc !== undefined) cpu.setTsc(Number(BigInt.asUintN(64, m.tsc)));
  }
  if ((flags & State.GPRS) && st.gprs) {
    const g = st.gprs;
    GPR_NAMES.forEach((name, n) => {
      const v = g[name];
      if (v !== undefined) { cpu.regs[2 * n] = Number(v & 0xffffffffn) | 0; cpu.regs[2 * n + 1] = Number((v >> 32n) & 0xffffffffn) | 0; }
    });
    if (g.rip !== undefined) { cpu.regs[RIP_LO] = Number(g.rip & 0xffffffffn) | 0; cpu.regs[RIP_LO + 1] = Number((g.rip >> 32n) & 0xffffffffn) | 0; }
    if (g.rflags !== undefined) cpu.flags = ((Number(g.rflags & 0xffffffffn) & RFLAGS_LIVE) | 2) >>> 0;
  }
  if ((flags & State.SEGS) && st.segs) {
    const s = st.segs;
    for (const name of Object.keys(SLOT_OF) as (keyof typeof SLOT_OF)[]) {
      const v = s[name];
      if (v) segmentIn(cpu, SLOT_OF[name], v);
    }
    if (s.gdt) {
      if (s.gdt.base !== undefined) cpu.gdtBase = s64(s.gdt.base);
      if (s.gdt.limit !== undefined) cpu.gdtLimit = s.gdt.limit & 0xffff;
    }
    if (s.idt) {
      if (s.idt.base !== undefined) cpu.idtBase = s64(s.idt.base);
      if (s.idt.limit !== undefined) cpu.idtLimit = s.idt.limit & 0xffff;
    }
  }
  if ((flags & State.DRS) && st.drs) {
    const d = st.drs;
    ([d.dr0, d.dr1, d.dr2, d.dr3] as (bigint | undefined)[]).forEach((v, k) => { if (v !== undefined) cpu.dr[k] = s64(v); });
    if (d.dr6 !== undefined) cpu.dr6 = Number(d.dr6 & 0xffffffffn);
    if (d.dr7 !== undefined) cpu.dr7 = Number(d.dr7 & 0xffffffffn);
  }
  if ((flags & State.INTR) && st.intr) {
    const i = st.intr;
    if (i.intShadow !== undefined) cpu.intShadow = i.intShadow;
    if (i.intWindowExiting !== undefined) cpu.intWindowExiting = i.intWindowExiting;
    if (i.nmiWindowExiting !== undefined) cpu.nmiWindowExiting = i.nmiWindowExiting;
    if (i.evtPending === false) cpu.pending.length = 0;
  }
  if ((flags & State.FPU) && st.fpu) {
    const f = st.fpu;
    if (f.fcw !== undefined) cpu.fcw = f.fcw & 0xffff;
    if (f.fsw !== undefined) cpu.fsw = f.fsw & 0xffff;
    if (f.ftw !== undefined) cpu.ftw = f.ftw & 0xff;
    if (f.fop !== undefined) cpu.fop = f.fop & 0xffff;
    if (f.fip !== undefined) cpu.fip = BigInt.asUintN(64, f.fip);
    if (f.fdp !== undefined) cpu.fdp = BigInt.asUintN(64, f.fdp);
    if (f.mxcsr !== undefined) cpu.mxcsr = f.mxcsr >>> 0;
    f.st?.forEach((r, k) => cpu.st[k]?.set(r.subarray(0, 10)));
    f.xmm?.forEach((r, k) => cpu.xmm[k]?.set(r.subarray(0, 16)));
  }
  // CPL follows SS.DPL in protected mode (as VMX defines it); real mode is CPL 0.
  if (flags & (State.SEGS | State.CRS)) cpu.cpl = cpu.cr0 & CR0_PE ? (cpu.segAttr[2]! >>> 5) & 3 : 0;
  cpu.updateMode();
  // Translations depend on CR0/CR3/CR4/EFER; decoded code needs no flush (it is keyed by
  // guest-physical page and mode, and re-checked against RAM when the host wrote it). Links
  // between blocks and the jump cache skip the checks of privilege, mode and CS (base, limit)
  // that a fetch makes: they go when any of those may have changed (flushTlb drops them too).
  if (flags & (State.CRS | State.MSRS)) cpu.flushTlb();
  else if ((flags & State.SEGS) || cpu.cpl !== cpl0 || cpu.mode !== mode0) cpu.resetFetch();
}
