/**
 * The soft backend's machine and vCPU objects behind the Backend interface (src/backends/backend.ts).
 */
import { VmmError } from '../../api/errors.js';
import type {
  CpuidConf, Prot, TprConf, VcpuEvent, VcpuState, VcpuStateInput, VcpuStopHandle, VmExit,
} from '../../api/types.js';
import type { AttachedMachine, BackendMachine, BackendVcpu, GuestMemory } from '../backend.js';
import { CodeWatch, type CodeWatchShare } from './code-watch.js';
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

  constructor(phys: PhysMemory, readonly id: number, shared: SharedParts | undefined, hostTscBase: bigint | undefined, announced: boolean, private readonly onDestroy: () => void) {
    this.cpu = new SoftCpu(phys, shared, hostTscBase);
    this.cpu.hostWritesAnnounced = announced;
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
  run(maxInstructions = Infinity): VmExit {
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
    if (this.destroyed) return;
    this.destroyed = true;
    this.cpu.ioCompletion = undefined;
    this.cpu.dropMemoryReferences();
    this.onDestroy();
  }
}

/** What a shared machine's vCPUs have in common across threads. */
interface SharedParts { watch: CodeWatch; mutex: SharedArrayBuffer }

/** SoftMachine.share's data (structured-cloneable). */
interface SoftShareData {
  hostTscBase: bigint;
  announced: boolean;
  /** RAM buffers, in the order the watch's page counts follow. */
  buffers: SharedArrayBuffer[];
  maps: { gpa: number; size: number; offset: number; prot: Prot; buffer: number; byteOffset: number; byteLength: number }[];
  watch: CodeWatchShare;
  mutex: SharedArrayBuffer;
  /** One Int32 per vCPU id: 1 while some thread has that vCPU. */
  vcpuIds: SharedArrayBuffer;
}

const MAX_VCPU_IDS = 128;

export class SoftMachine implements BackendMachine {
  readonly phys = new PhysMemory();
  private readonly vcpus = new Map<number, SoftVcpu>();
  private shared: { parts: SharedParts; data: SoftShareData; ids: Int32Array } | undefined;

  /**
   * hostTscBase: a 'host' TSC machine's clock origin (undefined: TSC counts instructions).
   * announced: the host announces its writes to guest RAM (hostWrote; MachineOptions.hostWrites).
   */
  constructor(private readonly hostTscBase: bigint | undefined, private readonly announced = false) {}

  map(gpa: number, memory: GuestMemory, offset: number, size: number, prot: Prot): void {
    this.phys.map(gpa, memory, offset, size, prot);
  }
  unmap(gpa: number, size: number): void {
    this.phys.unmap(gpa, size);
  }
  createVcpu(id: number): BackendVcpu {
    if (this.vcpus.has(id)) throw new VmmError('EEXIST', `soft vCPU ${id} already exists`);
    const ids = this.shared?.ids;
    if (ids !== undefined && Atomics.compareExchange(ids, id, 0, 1) !== 0) {
      throw new VmmError('EEXIST', `soft vCPU ${id} already exists in another thread of this shared machine`);
    }
    const v = new SoftVcpu(this.phys, id, this.shared?.parts, this.hostTscBase, this.announced, () => {
      this.vcpus.delete(id);
      if (ids !== undefined) Atomics.store(ids, id, 0);
    });
    this.vcpus.set(id, v);
    return v;
  }

  /**
   * Host writes reach decoded code as guest writes from another vCPU do: a page a vCPU of this
   * thread caches code in is retired (checked against RAM when code runs there again); on a
   * shared machine, a page some thread's vCPU caches code in moves the code watch's epoch, and
   * each vCPU re-checks its pages at its next run or run slice (code-watch.ts).
   */
  hostWrote(gpa: number, size: number): void {
    const watch = this.shared?.parts.watch;
    for (let page = gpa / 4096; page < (gpa + size) / 4096; page++) {
      if (watch === undefined) for (const v of this.vcpus.values()) v.cpu.hostWrotePage(page);
      else if (watch.cached(page)) {
        watch.bump();
        return;
      }
    }
  }

  /**
   * From now on vCPUs of this machine may run in other threads (attachSoftMachine): locked
   * instructions become atomic across threads and code written by one vCPU is seen by the others.
   * The vCPUs must agree on time, so the machine needs the 'host' TSC.
   */
  share(): Record<string, unknown> {
    if (this.shared !== undefined) return { ...this.shared.data };
    if (this.hostTscBase === undefined) {
      throw new VmmError('EINVAL', "soft: sharing a machine needs { tsc: 'host' } at createMachine (each vCPU's instruction count is its own clock; vCPUs in parallel need one)");
    }
    if (this.vcpus.size > 0) throw new VmmError('EBUSY', `soft: share() before creating vCPUs (${this.vcpus.size} exist)`);
    const buffers: SharedArrayBuffer[] = [];
    const maps = this.phys.regions.map((r) => {
      const buf = r.memory.bytes.buffer;
      if (!(buf instanceof SharedArrayBuffer)) throw new VmmError('EINVAL', `soft: RAM at ${r.gpa} is not shared memory`);
      let k = buffers.indexOf(buf);
      if (k < 0) k = buffers.push(buf) - 1;
      const prot = `r${r.writable ? 'w' : ''}${r.executable ? 'x' : ''}` as Prot;
      return { gpa: r.gpa, size: r.size, offset: r.offset, prot, buffer: k, byteOffset: r.memory.bytes.byteOffset, byteLength: r.memory.bytes.byteLength };
    });
    const watch = CodeWatch.create(this.phys, buffers);
    const data: SoftShareData = {
      hostTscBase: this.hostTscBase, announced: this.announced, buffers, maps, watch: watch.share, mutex: new SharedArrayBuffer(4),
      vcpuIds: new SharedArrayBuffer(4 * MAX_VCPU_IDS),
    };
    this.shared = { parts: { watch, mutex: data.mutex }, data, ids: new Int32Array(data.vcpuIds) };
    return { ...data };
  }

  /** Drops every reference to guest RAM, so a Machine object kept by the caller does not keep it alive. */
  destroy(): void {
    for (const v of [...this.vcpus.values()]) v.destroy();
    this.vcpus.clear();
    this.phys.regions = [];
    this.phys.generation++;
  }

  /** A view of a machine another thread shared (its share() data). */
  static attach(raw: Record<string, unknown>): AttachedMachine {
    const d = raw as unknown as SoftShareData;
    if (!Array.isArray(d.buffers) || !Array.isArray(d.maps) || typeof d.hostTscBase !== 'bigint' || typeof d.announced !== 'boolean' || !(d.mutex instanceof SharedArrayBuffer) || !(d.vcpuIds instanceof SharedArrayBuffer)) {
      throw new VmmError('EINVAL', 'soft: attachMachine needs the data of a soft machine\'s share()');
    }
    const m = new SoftMachine(d.hostTscBase, d.announced);
    const memories = d.buffers.map((b) => ({ bytes: new Uint8Array(b), size: b.byteLength }));
    const mappings = d.maps.map((x) => {
      const bytes = new Uint8Array(d.buffers[x.buffer]!, x.byteOffset, x.byteLength);
      const memory: GuestMemory = x.byteOffset === 0 && x.byteLength === memories[x.buffer]!.size ? memories[x.buffer]! : { bytes, size: x.byteLength };
      m.phys.map(x.gpa, memory, x.offset, x.size, x.prot);
      return { gpa: x.gpa, size: x.size, offset: x.offset, prot: x.prot, memory };
    });
    const watch = new CodeWatch(m.phys, d.buffers, d.watch);
    m.shared = { parts: { watch, mutex: d.mutex }, data: d, ids: new Int32Array(d.vcpuIds) };
    return { machine: m, mappings };
  }
}
