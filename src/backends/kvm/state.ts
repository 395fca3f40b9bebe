/**
 * Conversion between KVM's state structures (in native scratch memory, see structs.ts) and the
 * contract's State groups. Each reader fills a complete group; each writer changes only the
 * fields present in the partial input (the vCPU reads the structure first, so the rest keep
 * their values).
 */
import type { Drs, Fpu, Gprs, Msrs, Segment, Segs, VcpuStateInput } from '../../api/types.js';
import { DEBUGREGS, DTABLE, FXSAVE, KVM_REGS_ORDER, SEGMENT, SREGS, XFEATURE_X87_SSE } from './structs.js';

type View = DataView;
const LE = true;

export function readGprs(v: View, base: number): Gprs {
  const g = {} as Gprs;
  KVM_REGS_ORDER.forEach((name, i) => { g[name] = v.getBigUint64(base + i * 8, LE); });
  return g;
}

export function writeGprs(v: View, base: number, g: Partial<Gprs>): void {
  KVM_REGS_ORDER.forEach((name, i) => {
    const val = g[name];
    if (val !== undefined) v.setBigUint64(base + i * 8, BigInt.asUintN(64, val), LE);
  });
}

/** The 8 segment registers with a struct kvm_segment (gdt/idt are kvm_dtable). */
const SEGMENT_SLOTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
const TABLE_SLOTS = ['gdt', 'idt'] as const;

function readSegment(v: View, o: number): Segment {
  return {
    selector: v.getUint16(o + SEGMENT.selector, LE),
    base: v.getBigUint64(o + SEGMENT.base, LE),
    limit: v.getUint32(o + SEGMENT.limit, LE),
    type: v.getUint8(o + SEGMENT.type),
    s: v.getUint8(o + SEGMENT.s),
    dpl: v.getUint8(o + SEGMENT.dpl),
    // KVM marks a null/unloaded segment "unusable" (VMX); the contract shows that as p = 0.
    p: v.getUint8(o + SEGMENT.unusable) ? 0 : v.getUint8(o + SEGMENT.present),
    avl: v.getUint8(o + SEGMENT.avl),
    l: v.getUint8(o + SEGMENT.l),
    def: v.getUint8(o + SEGMENT.db),
    g: v.getUint8(o + SEGMENT.g),
  };
}

function writeSegment(v: View, o: number, s: Partial<Segment>): void {
  if (s.selector !== undefined) v.setUint16(o + SEGMENT.selector, s.selector, LE);
  if (s.base !== undefined) v.setBigUint64(o + SEGMENT.base, BigInt.asUintN(64, s.base), LE);
  if (s.limit !== undefined) v.setUint32(o + SEGMENT.limit, s.limit >>> 0, LE);
  if (s.type !== undefined) v.setUint8(o + SEGMENT.type, s.type);
  if (s.s !== undefined) v.setUint8(o + SEGMENT.s, s.s);
  if (s.dpl !== undefined) v.setUint8(o + SEGMENT.dpl, s.dpl);
  if (s.p !== undefined) {
    v.setUint8(o + SEGMENT.present, s.p);
    v.setUint8(o + SEGMENT.unusable, s.p ? 0 : 1);
  }
  if (s.avl !== undefined) v.setUint8(o + SEGMENT.avl, s.avl);
  if (s.l !== undefined) v.setUint8(o + SEGMENT.l, s.l);
  if (s.def !== undefined) v.setUint8(o + SEGMENT.db, s.def);
  if (s.g !== undefined) v.setUint8(o + SEGMENT.g, s.g);
}

/** GDTR/IDTR hold only base and limit; the other Segment fields read as a present system table. */
function readTable(v: View, o: number): Segment {
  return {
    selector: 0, base: v.getBigUint64(o + DTABLE.base, LE), limit: v.getUint16(o + DTABLE.limit, LE),
    type: 0, s: 0, dpl: 0, p: 1, avl: 0, l: 0, def: 0, g: 0,
  };
}

function writeTable(v: View, o: number, s: Partial<Segment>): void {
  if (s.base !== undefined) v.setBigUint64(o + DTABLE.base, BigInt.asUintN(64, s.base), LE);
  if (s.limit !== undefined) v.setUint16(o + DTABLE.limit, s.limit & 0xffff, LE);
}

export function readSegs(v: View, sregs: number): Segs {
  const segs = {} as Segs;
  for (const name of SEGMENT_SLOTS) segs[name] = readSegment(v, sregs + SREGS[name]);
  for (const name of TABLE_SLOTS) segs[name] = readTable(v, sregs + SREGS[name]);
  return segs;
}

export function writeSegs(v: View, sregs: number, segs: NonNullable<VcpuStateInput['segs']>): void {
  for (const name of SEGMENT_SLOTS) {
    const s = segs[name];
    if (s) writeSegment(v, sregs + SREGS[name], s);
  }
  for (const name of TABLE_SLOTS) {
    const s = segs[name];
    if (s) writeTable(v, sregs + SREGS[name], s);
  }
}

/** Control registers held in kvm_sregs (XCR0 has its own ioctl). */
export const SREGS_CRS = ['cr0', 'cr2', 'cr3', 'cr4', 'cr8'] as const;

export function writeSregsCrs(v: View, sregs: number, crs: NonNullable<VcpuStateInput['crs']>): void {
  for (const name of SREGS_CRS) {
    const val = crs[name];
    if (val !== undefined) v.setBigUint64(sregs + SREGS[name], BigInt.asUintN(64, val), LE);
  }
}

const DR_NAMES = ['dr0', 'dr1', 'dr2', 'dr3'] as const;

export function readDrs(v: View): Drs {
  const d = {} as Drs;
  DR_NAMES.forEach((name, i) => { d[name] = v.getBigUint64(DEBUGREGS.db + i * 8, LE); });
  d.dr6 = v.getBigUint64(DEBUGREGS.dr6, LE);
  d.dr7 = v.getBigUint64(DEBUGREGS.dr7, LE);
  return d;
}

export function writeDrs(v: View, d: Partial<Drs>): void {
  DR_NAMES.forEach((name, i) => {
    const val = d[name];
    if (val !== undefined) v.setBigUint64(DEBUGREGS.db + i * 8, BigInt.asUintN(64, val), LE);
  });
  if (d.dr6 !== undefined) v.setBigUint64(DEBUGREGS.dr6, BigInt.asUintN(64, d.dr6), LE);
  if (d.dr7 !== undefined) v.setBigUint64(DEBUGREGS.dr7, BigInt.asUintN(64, d.dr7), LE);
  v.setUint32(DEBUGREGS.flags, 0, LE);
}

/** The contract's MSRs other than EFER (which lives in kvm_sregs), with their indexes. */
export const MSR_TABLE: ReadonlyArray<readonly [Exclude<keyof Msrs, 'efer'>, number]> = [
  ['star', 0xc0000081], ['lstar', 0xc0000082], ['cstar', 0xc0000083], ['sfmask', 0xc0000084],
  ['kernelgsbase', 0xc0000102], ['sysenterCs', 0x174], ['sysenterEsp', 0x175], ['sysenterEip', 0x176],
  ['pat', 0x277], ['tsc', 0x10],
];

/**
 * The FPU group lives in the FXSAVE region of KVM_GET_XSAVE (KVM_GET_FPU is not used: on the
 * 6.18 PVM host here it reads MXCSR as 0 and ignores writes to it). ftw is the abridged tag byte.
 */
export function readFpu(v: View): Fpu {
  const st: Uint8Array[] = [], xmm: Uint8Array[] = [];
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  for (let i = 0; i < 8; i++) st.push(bytes.slice(FXSAVE.st + i * 16, FXSAVE.st + i * 16 + 10));
  for (let i = 0; i < 16; i++) xmm.push(bytes.slice(FXSAVE.xmm + i * 16, FXSAVE.xmm + i * 16 + 16));
  const mask = v.getUint32(FXSAVE.mxcsrMask, LE);
  return {
    fcw: v.getUint16(FXSAVE.fcw, LE), fsw: v.getUint16(FXSAVE.fsw, LE), ftw: v.getUint8(FXSAVE.ftw),
    fop: v.getUint16(FXSAVE.fop, LE), fip: v.getBigUint64(FXSAVE.fip, LE), fdp: v.getBigUint64(FXSAVE.fdp, LE),
    mxcsr: v.getUint32(FXSAVE.mxcsr, LE), mxcsrMask: mask === 0 ? 0xffbf : mask, st, xmm,
  };
}

/** Changes the fields present and marks x87 + SSE as live in XSTATE_BV so KVM loads them. */
export function writeFpu(v: View, f: Partial<Fpu>): void {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (f.fcw !== undefined) v.setUint16(FXSAVE.fcw, f.fcw, LE);
  if (f.fsw !== undefined) v.setUint16(FXSAVE.fsw, f.fsw, LE);
  if (f.ftw !== undefined) v.setUint8(FXSAVE.ftw, f.ftw);
  if (f.fop !== undefined) v.setUint16(FXSAVE.fop, f.fop, LE);
  if (f.fip !== undefined) v.setBigUint64(FXSAVE.fip, BigInt.asUintN(64, f.fip), LE);
  if (f.fdp !== undefined) v.setBigUint64(FXSAVE.fdp, BigInt.asUintN(64, f.fdp), LE);
  if (f.mxcsr !== undefined) v.setUint32(FXSAVE.mxcsr, f.mxcsr >>> 0, LE);
  f.st?.forEach((r, i) => { bytes.fill(0, FXSAVE.st + i * 16, FXSAVE.st + i * 16 + 16); bytes.set(r.subarray(0, 10), FXSAVE.st + i * 16); });
  f.xmm?.forEach((r, i) => { bytes.set(r.subarray(0, 16), FXSAVE.xmm + i * 16); });
  v.setBigUint64(FXSAVE.xstateBv, v.getBigUint64(FXSAVE.xstateBv, LE) | XFEATURE_X87_SSE, LE);
}
