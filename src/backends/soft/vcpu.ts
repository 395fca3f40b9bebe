/**
 * The soft backend's machine and vCPU objects behind the Backend interface (src/backends/backend.ts).
 */
import { VmmError } from '../../api/errors.js';
import type {
  CpuidConf, Prot, TprConf, VcpuEvent, VcpuState, VcpuStateInput, VcpuStopHandle, VmExit,
} from '../../api/types.js';
import type { BackendMachine, BackendVcpu, GuestMemory } from '../backend.js';
import { SoftCpu } from './cpu.js';
import { PhysMemory } from './memory.js';
import { runCpu } from './run.js';
import { completeIo } from './exit-completion.js';
import { getSoftState, setSoftState } from './state-io.js';

export class SoftVcpu implements BackendVcpu {
  readonly cpu: SoftCpu;
  /** Int32 flag, set by stop() from any thread holding the buffer (softStopFromHandle). */
  private readonly stopBuffer = new SharedArrayBuffer(4);
  private readonly stopFlag = new Int32Array(this.stopBuffer);
  private destroyed = false;

  constructor(phys: PhysMemory, readonly id: number) {
    this.cpu = new SoftCpu(phys);
    this.cpu.apicId = id;
  }

  private alive(): void {
    if (this.destroyed) throw new VmmError('ENOENT', `soft vCPU ${this.id} was destroyed`);
  }

  getState(flags: number): Partial<VcpuState> {
    this.alive();
    return getSoftState(this.cpu, flags);
  }
  /** A pending exit completion is done first, so the caller's values win (as on the KVM backend). */
  setState(state: VcpuStateInput, flags: number): void {
    this.alive();
    this.finishExit();
    setSoftState(this.cpu, state, flags);
  }
  configureCpuid(leaf: number, conf: CpuidConf): void {
    this.alive();
    this.cpu.cpuidConf.set(leaf >>> 0, conf);
  }
  configureTpr(conf: TprConf): void {
    this.alive();
    this.cpu.tprExitChanged = conf.exitChanged;
  }
  /**
   * One held exception and one held interrupt at a time, as on KVM (kvm/events.ts): a second one
   * before the first is delivered is refused with EBUSY rather than queued, so the caller sees the
   * same answers on both backends. NMIs collapse as on hardware and KVM (process_nmi): at most
   * two wait while NMIs are unblocked (one goes in, one is held until its IRET), one while they
   * are blocked; more are dropped, which is what the guest would see on KVM.
   */
  inject(event: VcpuEvent): void {
    this.alive();
    const p = this.cpu.pending;
    if (event.type !== 'nmi') {
      const held = p.find((e) => e.kind === event.type);
      if (held && held.kind !== 'nmi') {
        throw new VmmError('EBUSY', `soft: ${held.kind} ${held.vector} is still waiting for delivery`);
      }
    }
    if (event.type === 'exception') p.push({ kind: 'exception', vector: event.vector, errorCode: event.errorCode });
    else if (event.type === 'interrupt') p.push({ kind: 'interrupt', vector: event.vector });
    else if (p.filter((e) => e.kind === 'nmi').length < (this.cpu.nmiBlocked ? 1 : 2)) p.push({ kind: 'nmi' });
  }
  run(): VmExit {
    this.alive();
    this.finishExit();
    return runCpu(this.cpu, this.stopFlag);
  }
  /** run() that also stops after about maxInstructions (tests and fuzzing; not in the API). */
  runBounded(maxInstructions: number): VmExit {
    this.alive();
    this.finishExit();
    return runCpu(this.cpu, this.stopFlag, maxInstructions);
  }
  /** Completes the last exit's instruction if it is still pending (exit-completion.ts). */
  private finishExit(): void {
    const io = this.cpu.ioCompletion;
    if (io === undefined) return;
    this.cpu.ioCompletion = undefined;
    completeIo(this.cpu, io);
  }
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
  }
  stopHandle(): VcpuStopHandle {
    return { backend: 'soft', data: { stop: this.stopBuffer } };
  }
  destroy(): void {
    this.destroyed = true;
    this.cpu.ioCompletion = undefined;
    this.cpu.dropMemoryReferences();
  }
}

export class SoftMachine implements BackendMachine {
  readonly phys = new PhysMemory();
  private readonly vcpus = new Map<number, SoftVcpu>();

  map(gpa: number, memory: GuestMemory, offset: number, size: number, prot: Prot): void {
    this.phys.map(gpa, memory, offset, size, prot);
  }
  unmap(gpa: number, size: number): void {
    this.phys.unmap(gpa, size);
  }
  createVcpu(id: number): BackendVcpu {
    if (this.vcpus.has(id)) throw new VmmError('EEXIST', `soft vCPU ${id} already exists`);
    const v = new SoftVcpu(this.phys, id);
    this.vcpus.set(id, v);
    return v;
  }
  /** Drops every reference to guest RAM, so a Machine object kept by the caller does not keep it alive. */
  destroy(): void {
    for (const v of this.vcpus.values()) v.destroy();
    this.vcpus.clear();
    this.phys.regions = [];
    this.phys.generation++;
  }
}
