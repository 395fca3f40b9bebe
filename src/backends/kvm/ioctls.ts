/**
 * KVM ioctl request numbers for x86-64 (from <linux/kvm.h>, _IO/_IOR/_IOW/_IOWR already applied:
 * the values were printed by a C program compiled against the kernel headers) and the constants
 * that travel with them. Data, not code: every number the backend uses is here.
 */
export const KVM = {
  GET_API_VERSION: 0xae00,
  CREATE_VM: 0xae01,
  CHECK_EXTENSION: 0xae03,
  GET_VCPU_MMAP_SIZE: 0xae04,
  GET_SUPPORTED_CPUID: 0xc008ae05,
  SET_USER_MEMORY_REGION: 0x4020ae46,
  CREATE_VCPU: 0xae41,
  ENABLE_CAP: 0x4068aea3,
  X86_SET_MSR_FILTER: 0x4188aec6,
  RUN: 0xae80,
  GET_REGS: 0x8090ae81,
  SET_REGS: 0x4090ae82,
  GET_SREGS: 0x8138ae83,
  SET_SREGS: 0x4138ae84,
  GET_XCRS: 0x8188aea6,
  SET_XCRS: 0x4188aea7,
  GET_DEBUGREGS: 0x8080aea1,
  SET_DEBUGREGS: 0x4080aea2,
  GET_MSRS: 0xc008ae88,
  SET_MSRS: 0x4008ae89,
  GET_VCPU_EVENTS: 0x8040ae9f,
  SET_VCPU_EVENTS: 0x4040aea0,
  INTERRUPT: 0x4004ae86,
  NMI: 0xae9a,
  SET_CPUID2: 0x4008ae90,
  SET_SIGNAL_MASK: 0x4004ae8b,
  GET_XSAVE: 0x9000aea4,
  SET_XSAVE: 0x5000aea5,
  SET_TSS_ADDR: 0xae47,
} as const;

/** KVM_CHECK_EXTENSION capability numbers the backend depends on or reports. */
export const KVM_CAP = {
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  VCPU_EVENTS: 41,
  DEBUGREGS: 50,
  XSAVE: 55,
  XCRS: 56,
  READONLY_MEM: 81,
  SYNC_REGS: 74,
  IMMEDIATE_EXIT: 136,
  X86_USER_SPACE_MSR: 188,
  X86_MSR_FILTER: 189,
  NR_MEMSLOTS: 10,
  MAX_VCPUS: 66,
  NR_VCPUS: 9,
} as const;

/** kvm_run.exit_reason values. */
export const KVM_EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  SET_TPR: 11,
  NMI: 16,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
  X86_RDMSR: 29,
  X86_WRMSR: 30,
} as const;

/** kvm_run.internal.suberror values, for the 'invalid' exit's detail. */
export const KVM_INTERNAL_ERROR: Record<number, string> = {
  1: 'emulation failure',
  2: 'exception while delivering an exception (simultaneous exceptions)',
  3: 'exit while delivering an event',
  4: 'unexpected exit reason',
};

export const KVM_MEM_READONLY = 2;
export const KVM_SYNC_X86_REGS = 1, KVM_SYNC_X86_SREGS = 2, KVM_SYNC_X86_EVENTS = 4;
/** KVM_CAP_X86_USER_SPACE_MSR argument: which MSR accesses exit to user space. */
export const KVM_MSR_EXIT_REASON_INVAL = 1, KVM_MSR_EXIT_REASON_UNKNOWN = 2, KVM_MSR_EXIT_REASON_FILTER = 4;
/** kvm_vcpu_events.flags validity bits. */
export const KVM_VCPUEVENT_VALID_NMI_PENDING = 1, KVM_VCPUEVENT_VALID_SHADOW = 4;
/** kvm_run.io.direction. */
export const KVM_EXIT_IO_IN = 0;
