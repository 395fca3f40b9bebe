/**
 * The soft CPU's architectural state, kept as flat typed arrays and plain numbers so the hot
 * path never allocates or touches BigInt. 64-bit quantities are [lo, hi] int32 pairs (GPRs, RIP)
 * or, for addresses, signed JS numbers (exact for every canonical address).
 */
import { RIP_LO } from '../../x86/exec/context.js';
import { F64_ZERO, LazyFlags } from '../../x86/exec/lazy-flags.js';

/** Segment slots: 0..5 = es cs ss ds fs gs (as in instruction.ts), then LDTR and TR. */
export const SLOT_LDTR = 6, SLOT_TR = 7;

/**
 * Segment attributes packed as in VMX access rights: type 0-3, s 4, dpl 5-6, p 7, avl 12,
 * l 13, def (D/B) 14, g 15. Bit 16 ("unusable") is not used: p = 0 marks a null segment.
 */
export const ATTR_S = 1 << 4, ATTR_P = 1 << 7, ATTR_AVL = 1 << 12, ATTR_L = 1 << 13,
  ATTR_DEF = 1 << 14, ATTR_G = 1 << 15;
export const attrDpl = (attr: number): number => (attr >>> 5) & 3;

/** CR0/CR4/EFER bits the CPU acts on. */
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4,
  CR0_NE = 1 << 5, CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30,
  CR0_PG = 1 << 31;
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4,
  CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9,
  CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11, CR4_FSGSBASE = 1 << 16, CR4_OSXSAVE = 1 << 18;
/**
 * CR4 bits a guest may set: the ones the soft CPU implements or can harmlessly ignore
 * (VME/PVI, UMIP, SMEP/SMAP are not implemented: setting them is #GP, and CPUID does not offer them).
 * OSXSAVE enables the XSAVE feature set (xsave.ts); MOV CR4 also needs CPUID.1:ECX.XSAVE for it.
 */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
  CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_FSGSBASE | CR4_OSXSAVE;
export const EFER_SCE = 1 << 0, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
export const EFER_SUPPORTED = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

export const RFLAGS_VM = 1 << 17, RFLAGS_RF = 1 << 16, RFLAGS_NT = 1 << 14, RFLAGS_IOPL = 3 << 12,
  RFLAGS_AC = 1 << 18, RFLAGS_VIF = 1 << 19, RFLAGS_VIP = 1 << 20, RFLAGS_ID = 1 << 21;
/** Bits of RFLAGS that exist (all others read as 0, bit 1 reads as 1). */
export const RFLAGS_LIVE = 0x3f7fd5;

/** An event waiting for delivery (injected by the VMM). */
export type PendingEvent =
  | { kind: 'exception'; vector: number; errorCode: number | undefined }
  | { kind: 'interrupt'; vector: number }
  | { kind: 'nmi' };

/** RFLAGS is `flags`, kept lazily (LazyFlags). */
export class CpuState extends LazyFlags {
  /**
   * 16 GPRs then RIP, [lo, hi] int32 pairs (ExecContext.regs). Not readonly: the wasm tier moves
   * it (and segBase, segReadMax, segWriteMax) into its arena (wasm/block-wasm.ts): read it afresh.
   */
  regs: Int32Array<ArrayBufferLike> = new Int32Array(RIP_LO + 2);

  readonly segSel = new Int32Array(8);
  /** Segment bases as signed numbers (canonical in long mode). */
  segBase: Float64Array<ArrayBufferLike> = new Float64Array(8);
  /** Byte-granular limits (G already applied), 0..0xffffffff. */
  readonly segLimit = new Float64Array(8);
  readonly segAttr = new Int32Array(8);
  // Fields that hold addresses or counts beyond 2^30 start as doubles (F64_ZERO says why).
  gdtBase = F64_ZERO; gdtLimit = 0xffff;
  idtBase = F64_ZERO; idtLimit = 0xffff;

  /** Current privilege level (0 in real mode). */
  cpl = 0;

  cr0 = CR0_ET | CR0_CD | CR0_NW; cr2 = F64_ZERO; cr3 = F64_ZERO; cr4 = 0; cr8 = 0; xcr0 = 1;
  efer = 0;
  dr = [0, 0, 0, 0]; dr6 = 0xffff0ff0; dr7 = 0x400;

  starLo = 0; starHi = 0; lstar = F64_ZERO; cstar = F64_ZERO; sfmask = 0; kernelGsBase = F64_ZERO;
  sysenterCs = 0; sysenterEsp = F64_ZERO; sysenterEip = F64_ZERO;
  patLo = 0x00070406; patHi = 0x00070406;
  /** IA32_SPEC_CTRL (msr.ts): stored and read back; nothing here speculates for it to restrict. */
  specCtrl = 0;
  apicBase = 0xfee00900;
  /** TSC = tscOffset + instructions retired (deterministic), or + host ns (cpu.ts tsc()). */
  tscOffset = F64_ZERO;
  instret = F64_ZERO;

  /** Interrupts are inhibited for the next instruction (after STI, MOV SS, POP SS). */
  intShadow = false;
  intWindowExiting = false;
  nmiWindowExiting = false;
  /** NMIs are blocked from NMI delivery until the next IRET. */
  nmiBlocked = false;
  readonly pending: PendingEvent[] = [];
  halted = false;

  // x87/SSE state: st[k] is ST(k) in stack order, TOP in fsw, ftw the abridged tags (src/x86/x87-exec/regs.ts).
  fcw = 0x37f; fsw = 0; ftw = 0; fop = 0; fip = 0n; fdp = 0n;
  mxcsr = 0x1f80;
  readonly st: Uint8Array[] = Array.from({ length: 8 }, () => new Uint8Array(10));
  readonly xmm: Uint8Array[] = Array.from({ length: 16 }, () => new Uint8Array(16));
  /** xmm's registers as 32-bit lanes (VectorContext.xmm32): the arrays above are never replaced. */
  readonly xmm32: readonly Int32Array[] = this.xmm.map((r) => new Int32Array(r.buffer, r.byteOffset, 4));

  constructor() {
    super();
    // The x86 reset state: real mode at F000:FFF0 with CS base FFFF0000.
    for (let s = 0; s < 6; s++) {
      this.segLimit[s] = 0xffff;
      this.segAttr[s] = ATTR_P | ATTR_S | 3; // read/write data, accessed
    }
    this.segAttr[1] = ATTR_P | ATTR_S | 0xb; // execute/read code, accessed
    this.segSel[1] = 0xf000;
    this.segBase[1] = 0xffff0000;
    this.segLimit[SLOT_LDTR] = 0xffff; this.segAttr[SLOT_LDTR] = ATTR_P | 2;
    this.segLimit[SLOT_TR] = 0xffff; this.segAttr[SLOT_TR] = ATTR_P | 0xb;
    this.regs[RIP_LO] = 0xfff0;
  }

  get longMode(): boolean { return (this.efer & EFER_LMA) !== 0; }
  get protectedMode(): boolean { return (this.cr0 & CR0_PE) !== 0; }
}

/**
 * Legacy-mode segmentation's fast path: the linear address of an access of size bytes at offset
 * addr of a segment with base and fast-path limit max (SoftCpu.segReadMax/segWriteMax), or -1
 * when the access needs the checking path. One return: compiled blocks inline it.
 */
export function withinLimit(max: number, base: number, addr: number, size: number): number {
  return addr + size - 1 <= max ? (base + addr) >>> 0 : -1;
}
