/**
 * Ready-made vCPU states for the usual starting points of a guest, and the in-memory structures
 * (GDT, TSS, identity page tables) that long-mode guests need so that exceptions, IRET and
 * SYSCALL/SYSRET find real descriptors. Pure data: works with any backend through setState.
 */
import type { Segment, Segs, VcpuStateInput } from '../api/types.js';
import { VmmError, hex } from '../api/errors.js';

/** Segment types (the 4-bit type field with S=1 for code/data). */
export const SEG_TYPE = {
  DATA_RW_ACCESSED: 0x3,
  CODE_RX_ACCESSED: 0xb,
  LDT: 0x2,
  TSS16_BUSY: 0x3,
  TSS_BUSY: 0xb,
} as const;

export function segment(fields: Partial<Segment> & { selector: number }): Segment {
  return {
    base: 0n, limit: 0xffff, type: SEG_TYPE.DATA_RW_ACCESSED, s: 1, dpl: 0, p: 1, avl: 0, l: 0, def: 0, g: 0,
    ...fields,
  };
}

/** Real-mode segment: base = selector * 16, 64 KiB limit. */
function realSeg(selector: number, type: number = SEG_TYPE.DATA_RW_ACCESSED): Segment {
  return segment({ selector, base: BigInt(selector) << 4n, type });
}

function systemSegs(): Pick<Segs, 'gdt' | 'idt' | 'ldt' | 'tr'> {
  return {
    gdt: segment({ selector: 0, limit: 0xffff, type: 0, s: 0 }),
    idt: segment({ selector: 0, limit: 0xffff, type: 0, s: 0 }),
    ldt: segment({ selector: 0, limit: 0xffff, type: SEG_TYPE.LDT, s: 0 }),
    tr: segment({ selector: 0, limit: 0xffff, type: SEG_TYPE.TSS_BUSY, s: 0 }),
  };
}

const CR0_PE = 1n, CR0_ET = 0x10n, CR0_NE = 0x20n, CR0_WP = 0x10000n, CR0_PG = 0x80000000n;
const CR0_CD_NW = 0x60000000n;
const CR4_PAE = 0x20n, CR4_OSFXSR = 0x200n, CR4_OSXMMEXCPT = 0x400n;
export const EFER_SCE = 0x1n, EFER_LME = 0x100n, EFER_LMA = 0x400n, EFER_NXE = 0x800n;

/** The architectural reset state: real mode, CS 0xF000 with base 0xFFFF0000, IP 0xFFF0. */
export function resetState(): VcpuStateInput {
  const cs = segment({ selector: 0xf000, base: 0xffff0000n, type: SEG_TYPE.CODE_RX_ACCESSED });
  const data = (): Segment => realSeg(0);
  return {
    gprs: zeroGprs({ rip: 0xfff0n, rflags: 0x2n }),
    segs: { cs, ds: data(), es: data(), ss: data(), fs: data(), gs: data(), ...systemSegs() },
    crs: { cr0: CR0_CD_NW | CR0_ET, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n },
    msrs: { efer: 0n },
  };
}

/** Real mode at cs:ip (all data segments = cs), e.g. for a flat 16-bit test guest. */
export function realModeState(cs: number, ip: number, sp = 0xfffe): VcpuStateInput {
  const code = realSeg(cs, SEG_TYPE.CODE_RX_ACCESSED);
  return {
    gprs: zeroGprs({ rip: BigInt(ip), rsp: BigInt(sp), rflags: 0x2n }),
    segs: { cs: code, ds: realSeg(cs), es: realSeg(cs), ss: realSeg(cs), fs: realSeg(cs), gs: realSeg(cs), ...systemSegs() },
    crs: { cr0: CR0_ET, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n },
    msrs: { efer: 0n },
  };
}

/** Flat 32-bit protected mode, paging off, CPL0 (how NVMM's toyvirt enters smallkern). */
export function flat32State(entry: number, esp = 0): VcpuStateInput {
  const flat = (selector: number, type: number): Segment =>
    segment({ selector, base: 0n, limit: 0xffffffff, type, def: 1, g: 1 });
  const data = (): Segment => flat(0x10, SEG_TYPE.DATA_RW_ACCESSED);
  return {
    gprs: zeroGprs({ rip: BigInt(entry), rsp: BigInt(esp), rflags: 0x2n }),
    segs: { cs: flat(0x08, SEG_TYPE.CODE_RX_ACCESSED), ds: data(), es: data(), ss: data(), fs: data(), gs: data(), ...systemSegs() },
    crs: { cr0: CR0_PE | CR0_ET, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n },
    msrs: { efer: 0n },
  };
}

/**
 * The GDT that longModeState's selectors refer to. The order suits SYSCALL/SYSRET:
 * STAR[47:32] = 0x08 (kernel CS, SS = +8), STAR[63:48] = 0x18 (user CS64 = +16, user SS = +8).
 */
export const GDT_SELECTORS = {
  KERNEL_CODE64: 0x08,
  KERNEL_DATA: 0x10,
  USER_CODE32: 0x18,
  USER_DATA: 0x20 | 3,
  USER_CODE64: 0x28 | 3,
  TSS: 0x30,
} as const;
/** STAR value matching GDT_SELECTORS. */
export const LONG_MODE_STAR = (0x18n << 48n) | (0x08n << 32n);

/** Bytes needed at LongModeLayout.tablesGpa: PML4, PDPT, 4 page directories, GDT, TSS. */
export const LONG_MODE_TABLES_SIZE = 0x7000;

export interface LongModeLayout {
  /** Guest RAM as host bytes, and the GPA its byte 0 is mapped at. */
  ram: Uint8Array;
  ramGpa: number;
  /** Page-aligned GPA of a LONG_MODE_TABLES_SIZE-byte area (inside ram) for the structures. */
  tablesGpa: number;
  /** Bytes of guest-physical space identity-mapped with 2 MiB pages, from GPA 0 (max 4 GiB). */
  mapBytes: number;
  /** Allow CPL3 access to the identity map (default true). */
  user?: boolean;
  /** Mark the identity map no-execute (needs EFER.NXE, set by longModeState when true). */
  noExec?: boolean;
}

/** Writes PML4/PDPT/PDs (2 MiB pages) and returns CR3. */
export function writeIdentityPageTables(layout: LongModeLayout): bigint {
  const { ram, ramGpa, tablesGpa, mapBytes } = layout;
  if (tablesGpa % 4096 !== 0) throw new VmmError('EINVAL', `page tables must be page-aligned, got ${hex(tablesGpa)}`);
  if (mapBytes <= 0 || mapBytes > 4 * 2 ** 30 || mapBytes % (2 * 2 ** 20) !== 0) {
    throw new VmmError('EINVAL', `identity map size must be a multiple of 2 MiB up to 4 GiB, got ${hex(mapBytes)}`);
  }
  const off = tablesGpa - ramGpa;
  if (off < 0 || off + LONG_MODE_TABLES_SIZE > ram.length) {
    throw new VmmError('EINVAL', `table area ${hex(tablesGpa)}+${hex(LONG_MODE_TABLES_SIZE)} is outside guest RAM`);
  }
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  ram.fill(0, off, off + 0x6000);
  const flags = 0x3 | (layout.user === false ? 0 : 0x4); // P | RW | US
  const pml4 = off, pdpt = off + 0x1000, pd0 = off + 0x2000;
  view.setUint32(pml4, (tablesGpa + 0x1000) | flags, true);
  const nPd = Math.ceil(mapBytes / 2 ** 30);
  for (let i = 0; i < nPd; i++) view.setUint32(pdpt + i * 8, (tablesGpa + 0x2000 + i * 0x1000) | flags, true);
  const nx = layout.noExec ? 0x80000000 : 0;
  for (let i = 0; i < mapBytes / (2 * 2 ** 20); i++) {
    const gpa = i * 2 * 2 ** 20;
    view.setUint32(pd0 + i * 8, (gpa % 2 ** 32) | flags | 0x80 /* PS */, true);
    view.setUint32(pd0 + i * 8 + 4, Math.floor(gpa / 2 ** 32) | nx, true);
  }
  return BigInt(tablesGpa);
}

/** Encodes a code/data/system descriptor's 8 bytes (the low 8 for a 16-byte system one). */
export function encodeDescriptor(seg: Segment): [number, number] {
  const base = Number(seg.base & 0xffffffffn);
  const limit = seg.g ? seg.limit >>> 12 : seg.limit;
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = ((base >>> 16) & 0xff) | ((seg.type & 0xf) << 8) | (seg.s << 12) | ((seg.dpl & 3) << 13) |
    (seg.p << 15) | (limit & 0xf0000) | (seg.avl << 20) | (seg.l << 21) | (seg.def << 22) | (seg.g << 23) |
    (base & 0xff000000);
  return [lo >>> 0, hi >>> 0];
}

export interface LongModeOptions {
  entry: number;
  /** Initial RSP. */
  stack: number;
  /** Privilege level to start at (default 0). */
  cpl?: 0 | 3;
  /** RSP0 in the TSS: the stack used when an interrupt arrives at CPL3 (default: stack). */
  kernelStack?: number;
}

/**
 * 64-bit long mode with identity paging, a real GDT (GDT_SELECTORS) and a 64-bit TSS in guest
 * memory, SYSCALL enabled (EFER.SCE, STAR = LONG_MODE_STAR). The IDT is left empty (limit 0):
 * a guest that wants exceptions installs its own with LIDT or via setState.
 */
export function longModeState(layout: LongModeLayout, opts: LongModeOptions): VcpuStateInput {
  const cr3 = writeIdentityPageTables(layout);
  const cpl = opts.cpl ?? 0;
  const gdtGpa = layout.tablesGpa + 0x6000, tssGpa = gdtGpa + 0x100;
  const view = new DataView(layout.ram.buffer, layout.ram.byteOffset, layout.ram.byteLength);
  const gdtOff = gdtGpa - layout.ramGpa;
  layout.ram.fill(0, gdtOff, gdtOff + 0x1000);

  const flat = (selector: number, type: number, dpl: number, l: number, def: number): Segment =>
    segment({ selector, base: 0n, limit: 0xffffffff, type, dpl, l, def, g: 1 });
  const kcode = flat(GDT_SELECTORS.KERNEL_CODE64, SEG_TYPE.CODE_RX_ACCESSED, 0, 1, 0);
  const kdata = flat(GDT_SELECTORS.KERNEL_DATA, SEG_TYPE.DATA_RW_ACCESSED, 0, 0, 1);
  const ucode32 = flat(GDT_SELECTORS.USER_CODE32, SEG_TYPE.CODE_RX_ACCESSED, 3, 0, 1);
  const udata = flat(GDT_SELECTORS.USER_DATA, SEG_TYPE.DATA_RW_ACCESSED, 3, 0, 1);
  const ucode = flat(GDT_SELECTORS.USER_CODE64, SEG_TYPE.CODE_RX_ACCESSED, 3, 1, 0);
  const tr = segment({ selector: GDT_SELECTORS.TSS, base: BigInt(tssGpa), limit: 0x67, type: SEG_TYPE.TSS_BUSY, s: 0 });
  for (const seg of [kcode, kdata, ucode32, udata, ucode, tr]) {
    const [lo, hi] = encodeDescriptor(seg);
    view.setUint32(gdtOff + (seg.selector & ~7), lo, true);
    view.setUint32(gdtOff + (seg.selector & ~7) + 4, hi, true);
  }
  // TSS: RSP0 at offset 4, I/O map base beyond the limit (no I/O bitmap: CPL3 port access faults).
  const tssOff = tssGpa - layout.ramGpa;
  const rsp0 = opts.kernelStack ?? opts.stack;
  view.setUint32(tssOff + 4, rsp0 % 2 ** 32, true);
  view.setUint32(tssOff + 8, Math.floor(rsp0 / 2 ** 32), true);
  view.setUint16(tssOff + 0x66, 0x68, true);

  const code = cpl === 3 ? ucode : kcode;
  const data = cpl === 3 ? udata : kdata;
  const nul = (): Segment => segment({ selector: 0, base: 0n, limit: 0, type: 0, s: 0, p: 0 });
  const dseg = (): Segment => (cpl === 3 ? { ...udata } : nul());
  return {
    gprs: zeroGprs({ rip: BigInt(opts.entry), rsp: BigInt(opts.stack), rflags: 0x2n }),
    segs: {
      cs: code, ss: { ...data }, ds: dseg(), es: dseg(), fs: dseg(), gs: dseg(),
      gdt: segment({ selector: 0, base: BigInt(gdtGpa), limit: 0x3f, type: 0, s: 0 }),
      idt: segment({ selector: 0, base: 0n, limit: 0, type: 0, s: 0 }),
      ldt: segment({ selector: 0, base: 0n, limit: 0, type: SEG_TYPE.LDT, s: 0, p: 0 }),
      tr,
    },
    crs: {
      cr0: CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE,
      cr2: 0n, cr3, cr4: CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT, cr8: 0n,
    },
    msrs: {
      efer: EFER_LME | EFER_LMA | EFER_SCE | (layout.noExec ? EFER_NXE : 0n),
      star: LONG_MODE_STAR,
    },
  };
}

function zeroGprs(fields: Partial<Record<string, bigint>>): NonNullable<VcpuStateInput['gprs']> {
  return {
    rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, rsi: 0n, rdi: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 0x2n,
    ...fields,
  };
}
