/**
 * The public data types of the tsvisor API (see shared/DESIGN.md, "The API contract").
 * Backends, the frontend, the assists and the tools all speak these types.
 */

export type BackendName = 'kvm' | 'soft';
export type BackendChoice = BackendName | 'auto';

/** Guest-physical mapping protection. */
export type Prot = 'r' | 'rw' | 'rx' | 'rwx';

/** State groups for getState/setState, as NVMM's NVMM_X64_STATE_* flags. */
export const State = {
  SEGS: 0x01,
  GPRS: 0x02,
  CRS: 0x04,
  DRS: 0x08,
  MSRS: 0x10,
  INTR: 0x20,
  FPU: 0x40,
  ALL: 0x7f,
} as const;

export interface Segment {
  selector: number;
  base: bigint;
  limit: number;
  type: number;
  s: number;
  dpl: number;
  p: number;
  avl: number;
  l: number;
  def: number;
  g: number;
}

export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];

export type Gprs = Record<GprName | 'rip' | 'rflags', bigint>;

export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdt', 'idt', 'ldt', 'tr'] as const;
export type SegName = (typeof SEG_NAMES)[number];
export type Segs = Record<SegName, Segment>;

export interface Crs { cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint; xcr0: bigint }
export interface Drs { dr0: bigint; dr1: bigint; dr2: bigint; dr3: bigint; dr6: bigint; dr7: bigint }
export interface Msrs {
  efer: bigint; star: bigint; lstar: bigint; cstar: bigint; sfmask: bigint; kernelgsbase: bigint;
  sysenterCs: bigint; sysenterEsp: bigint; sysenterEip: bigint; pat: bigint; tsc: bigint;
}
export interface Intr {
  intShadow: boolean;
  /**
   * Request an 'int-ready' exit as soon as the guest can take an external interrupt (IF set, no
   * STI/MOV SS shadow). One-shot, as on NVMM: the backend clears it when it reports the exit, so
   * a caller that wants another window sets it again. Every backend behaves the same.
   */
  intWindowExiting: boolean;
  /** Request an 'nmi-ready' exit once NMIs are unmasked; one-shot like intWindowExiting. */
  nmiWindowExiting: boolean;
  /** An event (injected or in flight) is pending delivery. */
  evtPending: boolean;
}
export interface Fpu {
  fcw: number; fsw: number; ftw: number; fop: number;
  fip: bigint; fdp: bigint;
  mxcsr: number; mxcsrMask: number;
  /** 8 x87 registers, 10 bytes each. */
  st: Uint8Array[];
  /** 16 XMM registers, 16 bytes each. */
  xmm: Uint8Array[];
}

export interface VcpuState {
  gprs: Gprs;
  segs: Segs;
  crs: Crs;
  drs: Drs;
  msrs: Msrs;
  intr: Intr;
  fpu: Fpu;
}

/** setState input: every group and every field optional. */
export type VcpuStateInput = {
  [K in keyof VcpuState]?: Partial<VcpuState[K]>;
};

export interface Capability {
  version: number;
  /** Size in bytes of a full serialized vCPU state (NVMM's nvmm_x64_state). */
  stateSize: number;
  maxMachines: number;
  maxVcpus: number;
  /** Largest total guest RAM per machine, bytes. */
  maxRam: number;
  arch: {
    vcpuConf: { cpuid: boolean; tpr: boolean };
    xcr0Mask: bigint;
    mxcsrMask: number;
    /** How many CPUID leaves can be configured per vCPU. */
    cpuidMaxOps: number;
    /** The CR4 bits the backend supports (bits 63:32 are reserved); setState refuses others (EINVAL). */
    cr4Mask: bigint;
    /** The EFER bits the backend supports; setState refuses others (EINVAL). */
    eferMask: bigint;
    /** MAXPHYADDR (CPUID 0x80000008 EAX[7:0]): in long mode setState refuses a CR3 above it (EINVAL). */
    physAddrBits: number;
  };
}

/** Masks applied to a CPUID leaf's result: (value & ~del) | set. exit: the leaf exits to the caller. */
export interface CpuidConf {
  set?: Partial<CpuidRegs>;
  del?: Partial<CpuidRegs>;
  exit?: boolean;
}
export interface CpuidRegs { eax: number; ebx: number; ecx: number; edx: number }

export interface TprConf { exitChanged: boolean }

/**
 * run(limit): the run also ends, with { reason: 'stopped' }, once maxInstructions guest
 * instructions have retired in it (a positive integer; an exit first ends it first). Backends
 * that count instructions (soft) stop exactly there; the others raise VmmError('ENOTSUP').
 * A monitor whose guest time is instructions retired stops at its devices' next deadline so.
 * A soft vCPU whose guest takes exceptions in a loop without retiring an instruction (a handler
 * that faults at its first instruction: in real mode, an IVT entry pointing at an undefined
 * opcode) also returns { reason: 'stopped' } after 4096 such deliveries in a row, limit or not,
 * so that the caller gets control back; the next run goes on where the guest is.
 */
export interface RunLimit { maxInstructions: number }

export type VcpuEvent =
  | { type: 'exception'; vector: number; errorCode?: number }
  | { type: 'interrupt'; vector: number }
  | { type: 'nmi' };

/** Carried by every exit: the bits of state a run loop needs without a getState. */
export interface ExitState {
  rflags: bigint;
  cr8: bigint;
  intShadow: boolean;
  intWindowExiting: boolean;
  nmiWindowExiting: boolean;
  evtPending: boolean;
}

interface ExitBase { exitState: ExitState }

export interface IoExit extends ExitBase {
  reason: 'io';
  port: number;
  in: boolean;
  /** Bytes per element: 1, 2 or 4. */
  size: number;
  /** For OUT: the bytes written (size bytes). For IN: size bytes, to be filled by the assist. */
  data: Uint8Array;
  rep: boolean;
  str: boolean;
  /** RIP of the next instruction: unsigned, in [0, 2^64) (upper-half kernel addresses are exact). */
  npc: bigint;
  /**
   * Set by backends that complete the instruction themselves on the next run() (KVM: its
   * in-kernel emulator; soft: IN/OUT, not INS/OUTS). The caller then only exchanges data: fills
   * it for IN, reads it for OUT; data holds all data.length / size elements of a string/REP
   * transfer. Registers, memory and RIP need no emulation; a setState before the next run()
   * completes the instruction first, then applies its values (they win).
   */
  backendCompletes?: boolean;
}
export interface MemoryExit extends ExitBase {
  reason: 'memory';
  gpa: number;
  write: boolean;
  size: number;
  /** The access that faulted: 'r' read, 'w' write, 'x' fetch. */
  prot: 'r' | 'w' | 'x';
  /** Bytes of the faulting instruction when the backend has them (may be empty). */
  instBytes: Uint8Array;
  /**
   * With backendCompletes (KVM): the size bytes of the access, aliasing the backend's buffer.
   * For a write they hold the value written; for a read the caller fills them before run().
   */
  data?: Uint8Array;
  /** See IoExit.backendCompletes. */
  backendCompletes?: boolean;
}
/** npc (rdmsr, wrmsr, cpuid): RIP of the next instruction, unsigned 64-bit; `setState({ gprs: { rip: exit.npc } })` completes it. */
export interface RdmsrExit extends ExitBase { reason: 'rdmsr'; msr: number; npc: bigint }
export interface WrmsrExit extends ExitBase { reason: 'wrmsr'; msr: number; value: bigint; npc: bigint }
export interface CpuidExit extends ExitBase { reason: 'cpuid'; leaf: number; subleaf: number; npc: bigint }
export interface TprChangedExit extends ExitBase { reason: 'tpr-changed'; cr8: bigint }
export interface InvalidExit extends ExitBase { reason: 'invalid'; detail: string }
/** int-ready / nmi-ready: the window asked for with Intr.intWindowExiting / nmiWindowExiting (now cleared). */
export interface SimpleExit extends ExitBase {
  reason: 'halted' | 'shutdown' | 'int-ready' | 'nmi-ready' | 'monitor' | 'mwait' | 'stopped';
}

export type VmExit =
  | IoExit | MemoryExit | RdmsrExit | WrmsrExit | CpuidExit | TprChangedExit | InvalidExit | SimpleExit;
export type VmExitReason = VmExit['reason'];

/** Assist callbacks. For a read/IN the handler fills data; for a write/OUT it reads data. */
export interface IoRequest { port: number; in: boolean; size: number; data: Uint8Array }
export interface MemRequest { gpa: number; write: boolean; size: number; data: Uint8Array }
export type IoHandler = (req: IoRequest) => void;
export type MemHandler = (req: MemRequest) => void;

/** What gvaToGpa returns: the GPA and the protection in effect along the walk. */
export interface GvaTranslation { gpa: number; prot: { read: boolean; write: boolean; exec: boolean; user: boolean } }

/**
 * A structured-cloneable token that lets another thread stop a running vCPU
 * (postMessage it to a worker, then call stopVcpu(handle) there).
 */
/** How a machine's TSC counts (Hypervisor.createMachine options). */
export type TscSource = 'instructions' | 'host';

export interface MachineOptions {
  /**
   * 'instructions' (soft only, its default): TSC = offset + instructions retired by that vCPU,
   * so a run is deterministic. 'host' (KVM's only clock): TSC = offset + the host's monotonic
   * clock in ns (1 GHz), one clock for every vCPU, which vCPUs running in parallel need.
   */
  tsc?: TscSource;
  /**
   * How the host's own writes to guest RAM (device DMA, loaders) reach the vCPUs' decoded code.
   * 'unannounced' (the default): the host may write anywhere between runs without telling; soft
   * then compares each code page with guest RAM at its first use in every run, and drops the
   * links between its blocks at every run's start. 'announced': the host reports each write with
   * Machine.hostWrote before the next run() of any vCPU (and before another thread's vCPU may
   * execute what it wrote), and soft keeps its decoded code, links and jump cache from one run to
   * the next, re-checking only the pages announced. A write not announced on such a machine may
   * leave soft running the code that was there before. KVM sees every write in hardware: both are
   * accepted and hostWrote has nothing to do there.
   */
  hostWrites?: HostWrites;
}

/** Machine options.hostWrites. */
export type HostWrites = 'unannounced' | 'announced';

/**
 * A machine handed to another thread (Machine.share, Hypervisor.attachMachine): structured-
 * cloneable (postMessage it to a worker). Backend-specific data: plain values and SharedArrayBuffers.
 */
export interface MachineShare {
  backend: BackendName;
  /** The owner's machine id (the registry's), for messages. */
  id: number;
  data: Record<string, unknown>;
}

export interface VcpuStopHandle {
  backend: BackendName;
  /** Backend-specific data; plain cloneable values and SharedArrayBuffers only. */
  data: Record<string, unknown>;
}
