/**
 * The machine-dependent side of the NVMM split. The frontend (src/frontend) validates every
 * argument, keeps the GPA map and the limits, and calls these only with checked values; a backend
 * never re-validates what the frontend owns, and knows nothing of the monitor or the assists.
 */
import type {
  BackendName, Capability, CpuidConf, Prot, TprConf, VcpuEvent, VcpuState, VcpuStateInput,
  TscSource, HostWrites, VcpuStopHandle, VmExit,
} from '../api/types.js';

/** Host memory usable as guest RAM. bytes aliases the memory the guest sees. */
export interface GuestMemory {
  readonly bytes: Uint8Array;
  readonly size: number;
}

export interface Backend {
  readonly name: BackendName;
  capability(): Capability;
  /** size is a positive multiple of 4096 (checked by the frontend). */
  allocate(size: number): GuestMemory;
  /** Releases host memory from allocate() once no machine maps it. */
  release(memory: GuestMemory): void;
  /**
   * tsc: the backend's own default when absent; ENOTSUP for a clock the backend cannot give.
   * hostWrites: 'unannounced' when absent (MachineOptions).
   */
  createMachine(options?: { tsc?: TscSource; hostWrites?: HostWrites }): BackendMachine;
  /** A view of a machine another thread shared (BackendMachine.share's data); ENOTSUP where unsupported. */
  attachMachine(data: Record<string, unknown>): AttachedMachine;
  close(): void;
}

export interface BackendMachine {
  /** gpa, offset and size are page-aligned and in bounds; the range does not overlap. */
  map(gpa: number, memory: GuestMemory, offset: number, size: number, prot: Prot): void;
  /** Exactly one earlier map() range (the frontend splits nothing). */
  unmap(gpa: number, size: number): void;
  createVcpu(id: number): BackendVcpu;
  /**
   * The host wrote guest RAM in [gpa, gpa + size) (page-aligned, mapped; checked by the frontend):
   * what a vCPU decoded from there is re-checked before it runs again. Callable from any thread
   * holding the machine (or a view of it).
   */
  hostWrote(gpa: number, size: number): void;
  /**
   * What another thread needs to attach to this machine (cloneable; SharedArrayBuffers shared).
   * From now on its vCPUs may run in several threads at once. ENOTSUP where unsupported.
   */
  share(): Record<string, unknown>;
  destroy(): void;
}

/** A machine attached from another thread, with its guest RAM as this thread sees it. */
export interface AttachedMachine {
  machine: BackendMachine;
  mappings: { gpa: number; size: number; offset: number; prot: Prot; memory: GuestMemory }[];
}

export interface BackendVcpu {
  /** flags: a State.* mask; fills exactly the groups asked for. */
  getState(flags: number): Partial<VcpuState>;
  setState(state: VcpuStateInput, flags: number): void;
  configureCpuid(leaf: number, conf: CpuidConf): void;
  configureTpr(conf: TprConf): void;
  /** Queue an event; it is delivered when the guest can take it (see intr.evtPending). */
  inject(event: VcpuEvent): void;
  /** maxInstructions: stop after that many retired (RunLimit); a backend that cannot count raises ENOTSUP. */
  run(maxInstructions?: number): VmExit;
  /** Stop from this thread: the current or next run() returns { reason: 'stopped' }. */
  stop(): void;
  /** A token for stopping this vCPU from another thread (see stopFromHandle). */
  stopHandle(): VcpuStopHandle;
  destroy(): void;
}

/** Each backend module exports this to stop a vCPU given a handle made in another thread. */
export type StopFromHandle = (handle: VcpuStopHandle) => void;
