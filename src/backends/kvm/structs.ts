/**
 * Byte offsets of the KVM structures the backend reads and writes (x86-64 layouts from
 * <linux/kvm.h> and <asm/kvm.h>, printed with offsetof by a C program against the kernel headers).
 * The structures live in native memory (mmap'd kvm_run, per-vCPU scratch pages) and are accessed
 * through DataViews at these offsets: no per-call marshalling.
 */

/** struct kvm_run (the vCPU's shared page). */
export const RUN = {
  requestInterruptWindow: 0,
  immediateExit: 1,
  exitReason: 8,
  readyForInterruptInjection: 12,
  ifFlag: 13,
  cr8: 16,
  // union at 32:
  ioDirection: 32,
  ioSize: 33,
  ioPort: 34,
  ioCount: 36,
  ioDataOffset: 40,
  mmioPhysAddr: 32,
  mmioData: 40,
  mmioLen: 48,
  mmioIsWrite: 52,
  hwExitReason: 32,
  failEntryReason: 32,
  failEntryCpu: 40,
  internalSuberror: 32,
  internalNdata: 36,
  internalData: 40,
  emulationFlags: 40,
  emulationInsnSize: 48,
  emulationInsnBytes: 49,
  msrError: 32,
  msrReason: 40,
  msrIndex: 44,
  msrData: 48,
  systemEventType: 32,
  exceptionNr: 32,
  exceptionErrorCode: 36,
  validRegs: 288,
  dirtyRegs: 296,
  syncRegs: 304,
  syncSregs: 448,
  syncEvents: 760,
} as const;

/** struct kvm_regs: 18 u64 in this order. */
export const KVM_REGS_ORDER = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags',
] as const;
export const REGS_SIZE = 144;
export const REGS_RIP = 128, REGS_RFLAGS = 136;

/** struct kvm_segment (24 bytes). */
export const SEGMENT = {
  base: 0, limit: 8, selector: 12, type: 14, present: 15, dpl: 16, db: 17, s: 18, l: 19, g: 20, avl: 21,
  unusable: 22,
} as const;
/** struct kvm_dtable (16 bytes). */
export const DTABLE = { base: 0, limit: 8 } as const;

/** struct kvm_sregs (312 bytes): where each segment / table / control register lives. */
export const SREGS = {
  cs: 0, ds: 24, es: 48, fs: 72, gs: 96, ss: 120, tr: 144, ldt: 168, gdt: 192, idt: 208,
  cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apicBase: 272, interruptBitmap: 280,
} as const;
export const SREGS_SIZE = 312;

/** struct kvm_debugregs (128 bytes). */
export const DEBUGREGS = { db: 0, dr6: 32, dr7: 40, flags: 48 } as const;
export const DEBUGREGS_SIZE = 128;

/** struct kvm_xcrs: nr_xcrs, flags, then { u32 xcr, u32 reserved, u64 value }[16]. */
export const XCRS = { nr: 0, flags: 4, entries: 8, entrySize: 16, entryValue: 8 } as const;
export const XCRS_SIZE = 392;

/** struct kvm_msrs: nmsrs, pad, then { u32 index, u32 reserved, u64 data }[]. */
export const MSRS = { n: 0, entries: 8, entrySize: 16, entryData: 8 } as const;

/** struct kvm_vcpu_events (64 bytes). */
export const EVENTS = {
  excInjected: 0, excNr: 1, excHasErrorCode: 2, excPending: 3, excErrorCode: 4,
  intInjected: 8, intNr: 9, intSoft: 10, intShadow: 11,
  nmiInjected: 12, nmiPending: 13, nmiMasked: 14,
  sipiVector: 16, flags: 20,
} as const;
export const EVENTS_SIZE = 64;

/** struct kvm_cpuid2: nent, pad, then kvm_cpuid_entry2[] (40 bytes each). */
export const CPUID2 = { nent: 0, entries: 8, entrySize: 40 } as const;
export const CPUID_ENTRY = { function: 0, index: 4, flags: 8, eax: 12, ebx: 16, ecx: 20, edx: 24 } as const;
/** kvm_cpuid_entry2.flags: the leaf has subleaves selected by ECX. */
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

/** struct kvm_userspace_memory_region (32 bytes). */
export const MEMORY_REGION = { slot: 0, flags: 4, guestPhysAddr: 8, memorySize: 16, userspaceAddr: 24 } as const;
export const MEMORY_REGION_SIZE = 32;

/** struct kvm_enable_cap (104 bytes). */
export const ENABLE_CAP = { cap: 0, flags: 4, args: 8 } as const;
export const ENABLE_CAP_SIZE = 104;

/** The legacy (FXSAVE, 64-bit layout) region at the start of the KVM_GET_XSAVE area, then the header. */
export const FXSAVE = {
  fcw: 0, fsw: 2, ftw: 4, fop: 6, fip: 8, fdp: 16, mxcsr: 24, mxcsrMask: 28, st: 32, xmm: 160, xstateBv: 512,
} as const;
/** XSTATE_BV bits for the x87 and SSE components (what the FPU group covers). */
export const XFEATURE_X87_SSE = 3n;
export const XSAVE_MXCSR_MASK = FXSAVE.mxcsrMask;
export const XSAVE_SIZE = 4096;

/** struct kvm_msr_filter: flags, then 16 ranges { u32 flags, u32 nmsrs, u32 base, u8 *bitmap }. */
export const MSR_FILTER = { flags: 0, ranges: 8, rangeSize: 24, rangeFlags: 0, rangeNmsrs: 4, rangeBase: 8, rangeBitmap: 16 } as const;
export const MSR_FILTER_SIZE = 392;
/** kvm_msr_filter_range.flags: the range applies to reads and writes. */
export const KVM_MSR_FILTER_READ_WRITE = 3;
