/**
 * A virtual CPU as the API exposes it: every argument is checked here, then handed to the
 * backend's vCPU. After destroy() (its own, or its machine's) every call throws VmmError ENOENT.
 */
import { VmmError, hex } from '../api/errors.js';
import { State } from '../api/types.js';
import type {
  CpuidConf, GvaTranslation, IoHandler, MemHandler, RunLimit, TprConf, VcpuEvent, VcpuState, VcpuStateInput,
  VcpuStopHandle, VmExit,
} from '../api/types.js';
import type { BackendVcpu } from '../backends/backend.js';
import { assistIo, assistMem } from '../x86/assist/index.js';
import { translateGva } from '../x86/mmu/index.js';
import type { GvaAccess } from '../x86/mmu/index.js';
import { checkBool, checkInt, checkKeys, checkU64 } from './checks.js';
import { describe } from './describe.js';
import { checkCpuidConf, checkCpuidLeaf, checkRunLimit, checkTprConf } from './conf-check.js';
import { checkEvent } from './event-check.js';
import { checkIoExit, checkMemoryExit } from './exit-check.js';
import { checkStateFlags, checkStateInput } from './state-check.js';
import { checkModeControls } from './mode-check.js';
import type { StateLimits } from './state-check.js';
import type { Machine } from './machine.js';

/** What a Vcpu needs from its machine (kept narrow so the two files do not depend on each other's insides). */
export interface VcpuHost {
  readonly machine: Machine;
  readonly stateLimits: StateLimits;
  readonly cpuidMaxOps: number;
  vcpuDestroyed(id: number): void;
}

const GVA_ACCESS_FIELDS = ['write', 'exec', 'user', 'implicit', 'setAccessedDirty'];

function checkHandler<H>(what: string, handler: H): H {
  if (typeof handler !== 'function') throw new VmmError('EINVAL', `${what}: handler must be a function, got ${describe(handler)}`);
  return handler;
}

export class Vcpu {
  readonly id: number;
  readonly machine: Machine;
  private readonly host: VcpuHost;
  private readonly impl: BackendVcpu;
  private readonly cpuidLeaves = new Set<number>();
  private destroyed = false;

  /** @internal Made by Machine.createVcpu. */
  constructor(host: VcpuHost, id: number, impl: BackendVcpu) {
    this.host = host;
    this.machine = host.machine;
    this.id = id;
    this.impl = impl;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  private live(): BackendVcpu {
    if (this.destroyed) throw new VmmError('ENOENT', `vCPU ${this.id} of machine ${this.machine.id} has been destroyed`);
    return this.impl;
  }

  /** The groups named by flags (State.*), each complete. */
  getState(flags: number = State.ALL): Partial<VcpuState> {
    const impl = this.live();
    return impl.getState(checkStateFlags(flags));
  }

  /** Sets the groups present in state (fields left out keep their value). flags, if given, must name exactly those groups. */
  setState(state: VcpuStateInput, flags?: number): void {
    const impl = this.live();
    const groups = checkStateInput(state, flags, this.host.stateLimits);
    checkModeControls(state, () => impl.getState(State.CRS | State.MSRS), () => impl.getState(State.SEGS),
      this.host.stateLimits.physAddrBits);
    impl.setState(state, groups);
  }

  configureCpuid(leaf: number, conf: CpuidConf): void {
    const impl = this.live();
    const checkedLeaf = checkCpuidLeaf(leaf);
    const checked = checkCpuidConf(conf);
    if (!this.cpuidLeaves.has(checkedLeaf) && this.cpuidLeaves.size >= this.host.cpuidMaxOps) {
      throw new VmmError('ENOBUFS', `vCPU ${this.id}: already ${this.cpuidLeaves.size} CPUID leaves configured (cpuidMaxOps), cannot add leaf ${hex(checkedLeaf)}`);
    }
    impl.configureCpuid(checkedLeaf, checked);
    this.cpuidLeaves.add(checkedLeaf);
  }

  configureTpr(conf: TprConf): void {
    const impl = this.live();
    impl.configureTpr(checkTprConf(conf));
  }

  /** Queues an event; see src/frontend/event-check.ts for the vectors accepted. */
  inject(event: VcpuEvent): void {
    const impl = this.live();
    impl.inject(checkEvent(event));
  }

  /**
   * Runs the guest until the next exit. Blocks this thread. limit: also stop after that many
   * guest instructions (see RunLimit; soft backend only).
   */
  run(limit?: RunLimit): VmExit {
    const impl = this.live();
    return limit === undefined ? impl.run() : impl.run(checkRunLimit(limit).maxInstructions);
  }

  /** Makes the current or next run() return { reason: 'stopped' }. From another thread use stopHandle() + stopVcpu(). */
  stop(): void {
    this.live().stop();
  }

  /** A structured-cloneable token; postMessage it to another thread and call stopVcpu(handle) there. */
  stopHandle(): VcpuStopHandle {
    return this.live().stopHandle();
  }

  /**
   * Translates a guest-virtual address with the vCPU's current paging state (src/x86/mmu).
   * Without access, only presence is checked; not mapped / not allowed -> VmmError 'EFAULT'.
   */
  gvaToGpa(gva: number | bigint, access?: GvaAccess): GvaTranslation {
    this.live();
    // Unsigned and exact: a number only below 2^53 (beyond it, it no longer names one address).
    if (typeof gva === 'bigint') checkU64('gva', gva);
    else checkInt('gva', gva, 0, Number.MAX_SAFE_INTEGER);
    if (access !== undefined) {
      const obj = checkKeys('gvaToGpa access', access, GVA_ACCESS_FIELDS);
      for (const [k, v] of Object.entries(obj)) if (v !== undefined) checkBool(`gvaToGpa access.${k}`, v);
    }
    return translateGva(this, gva, access);
  }

  /** Emulates the IN/OUT/INS/OUTS behind an 'io' exit (src/x86/assist), calling handler for the device side. */
  assistIo(exit: VmExit, handler: IoHandler): void {
    this.live();
    assistIo(this, checkIoExit(exit), checkHandler('assistIo', handler));
  }

  /** Emulates the instruction behind a 'memory' (MMIO) exit (src/x86/assist), calling handler for the device side. */
  assistMem(exit: VmExit, handler: MemHandler): void {
    this.live();
    assistMem(this, checkMemoryExit(exit), checkHandler('assistMem', handler));
  }

  destroy(): void {
    const impl = this.live();
    this.destroyed = true;
    try {
      impl.destroy();
    } finally {
      this.host.vcpuDestroyed(this.id);
    }
  }
}
