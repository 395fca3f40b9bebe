/**
 * A virtual machine: its guest-physical address space, its host memory and its vCPUs.
 * All checks happen here (alignment, bounds, overlap, ids); the backend machine only ever sees
 * valid requests. After destroy() every call throws VmmError ENOENT.
 */
import { VmmError, hex } from '../api/errors.js';
import type { Capability, MachineShare, Prot } from '../api/types.js';
import type { Backend, BackendMachine, GuestMemory } from '../backends/backend.js';
import { checkInt, checkKeys, checkPageAligned } from './checks.js';
import { describe } from './describe.js';
import { GpaMap } from './gpa-map.js';
import type { GpaRange } from './gpa-map.js';
import { MAX_GPA, PAGE_SIZE } from './limits.js';
import type { StateLimits } from './state-check.js';
import { Vcpu } from './vcpu.js';
import type { VcpuHost } from './vcpu.js';

export interface MapOptions {
  /** Offset into the memory, page-aligned (default 0). */
  offset?: number;
  /** Bytes to map, page-aligned (default: the rest of the memory after offset). */
  size?: number;
  /** Default 'rwx'. */
  prot?: Prot;
}

/** Where a guest-physical address lives on the host. */
export interface HostLocation {
  memory: GuestMemory;
  /** Byte offset of the GPA inside memory.bytes. */
  offset: number;
  prot: Prot;
}

/** A summary of a machine, as the registry and `tsvisor list` show it. */
export interface MachineInfo {
  vcpus: number;
  /** Bytes of guest RAM mapped. */
  ram: number;
}

/** What a Machine needs from its Hypervisor. */
export interface MachineOwner {
  readonly backend: Backend;
  readonly capability: Capability;
  machineChanged(m: Machine): void;
  machineDestroyed(m: Machine): void;
}

const PROTS: readonly string[] = ['r', 'rw', 'rx', 'rwx'];

export class Machine {
  readonly id: number;
  private readonly owner: MachineOwner;
  private readonly impl: BackendMachine;
  private readonly gpaMap = new GpaMap();
  /** Memory from this machine's allocate() not yet freed. */
  private readonly memories = new Set<GuestMemory>();
  private allocatedBytes = 0;
  private readonly vcpuById = new Map<number, Vcpu>();
  private readonly vcpuHost: VcpuHost;
  private destroyed = false;
  /** share() was called (or this is another thread's view): the memory map is fixed. */
  private shared = false;

  /** @internal Made by Hypervisor.createMachine. */
  constructor(owner: MachineOwner, id: number, impl: BackendMachine) {
    this.owner = owner;
    this.id = id;
    this.impl = impl;
    const arch = owner.capability.arch;
    const stateLimits: StateLimits = {
      xcr0Mask: arch.xcr0Mask, mxcsrMask: arch.mxcsrMask, cr4Mask: arch.cr4Mask, eferMask: arch.eferMask,
      physAddrBits: arch.physAddrBits,
    };
    this.vcpuHost = {
      machine: this,
      stateLimits,
      cpuidMaxOps: arch.cpuidMaxOps,
      vcpuDestroyed: (vid) => {
        this.vcpuById.delete(vid);
        if (!this.destroyed) this.owner.machineChanged(this);
      },
    };
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  private live(): BackendMachine {
    if (this.destroyed) throw new VmmError('ENOENT', `machine ${this.id} has been destroyed`);
    return this.impl;
  }

  /** Memory and map changes: not once other threads see the map. */
  private liveUnshared(what: string): BackendMachine {
    const impl = this.live();
    if (this.shared) throw new VmmError('EBUSY', `machine ${this.id} is shared with other threads: its guest memory is fixed (${what})`);
    return impl;
  }

  /**
   * Lets vCPUs of this machine run in other threads: post the result to a worker, which calls
   * Hypervisor.attachMachine(share) there and creates its vCPUs (ids are unique across threads).
   * Map the guest RAM first: from now on allocate/map/unmap/free are EBUSY. Backends: soft, on a
   * machine created with { tsc: 'host' } and before its first vCPU; kvm: ENOTSUP (not yet).
   */
  share(): MachineShare {
    const impl = this.live();
    const data = impl.share();
    this.shared = true;
    return { backend: this.owner.backend.name, id: this.id, data };
  }

  /** @internal Hypervisor.attachMachine: this view's map is the sharer's. */
  adoptSharedMap(mappings: readonly GpaRange[]): void {
    this.shared = true;
    for (const r of mappings) this.gpaMap.insert(r);
  }

  get info(): MachineInfo {
    return { vcpus: this.vcpuById.size, ram: this.gpaMap.mappedBytes };
  }

  /** Host memory usable as guest RAM: size is a positive multiple of 4096, within maxRam in total. */
  allocate(size: number): GuestMemory {
    this.liveUnshared('allocate');
    const maxRam = this.owner.capability.maxRam;
    checkPageAligned('allocate size', size, PAGE_SIZE, maxRam);
    if (this.allocatedBytes + size > maxRam) {
      throw new VmmError('ENOMEM', `machine ${this.id}: allocating ${size} bytes would exceed maxRam ${maxRam} (${this.allocatedBytes} already allocated)`);
    }
    const memory = this.owner.backend.allocate(size);
    this.memories.add(memory);
    this.allocatedBytes += memory.size;
    return memory;
  }

  /** Gives back memory from allocate() that no range maps any more. */
  free(memory: GuestMemory): void {
    this.liveUnshared('free');
    this.checkOwnMemory(memory);
    const uses = this.gpaMap.uses(memory);
    if (uses > 0) throw new VmmError('EBUSY', `machine ${this.id}: memory still mapped by ${uses} range(s); unmap it first`);
    this.memories.delete(memory);
    this.allocatedBytes -= memory.size;
    this.owner.backend.release(memory);
  }

  private checkOwnMemory(memory: unknown): GuestMemory {
    if (!this.memories.has(memory as GuestMemory)) {
      throw new VmmError('EINVAL', `machine ${this.id}: memory ${describe(memory)} was not allocated by this machine's allocate() (or was freed)`);
    }
    return memory as GuestMemory;
  }

  /** Maps [offset, offset + size) of memory at gpa. Overlapping an existing range throws EEXIST. */
  map(gpa: number, memory: GuestMemory, options: MapOptions = {}): void {
    const impl = this.liveUnshared('map');
    const mem = this.checkOwnMemory(memory);
    const opts = checkKeys('map options', options, ['offset', 'size', 'prot']);
    checkPageAligned('map gpa', gpa, 0, MAX_GPA - PAGE_SIZE);
    const offset = opts['offset'] === undefined ? 0 : checkPageAligned('map offset', opts['offset'], 0, mem.size - PAGE_SIZE);
    const size = opts['size'] === undefined ? mem.size - offset : checkPageAligned('map size', opts['size'], PAGE_SIZE, MAX_GPA);
    if (offset + size > mem.size) {
      throw new VmmError('EINVAL', `map: offset ${hex(offset)} + size ${hex(size)} runs past the memory's ${hex(mem.size)} bytes`);
    }
    if (gpa + size > MAX_GPA) {
      throw new VmmError('EINVAL', `map: range ${hex(gpa)}+${hex(size)} ends above the largest guest-physical address ${hex(MAX_GPA)}`);
    }
    const prot = opts['prot'] ?? 'rwx';
    if (!PROTS.includes(prot as string)) {
      throw new VmmError('EINVAL', `map prot must be one of ${PROTS.join(', ')}, got ${describe(prot)}`);
    }
    const clash = this.gpaMap.firstOverlap(gpa, size);
    if (clash !== undefined) {
      throw new VmmError('EEXIST', `map: range ${hex(gpa)}+${hex(size)} overlaps the mapping at ${hex(clash.gpa)}+${hex(clash.size)}`);
    }
    impl.map(gpa, mem, offset, size, prot as Prot);
    this.gpaMap.insert({ gpa, size, memory: mem, offset, prot: prot as Prot });
    this.owner.machineChanged(this);
  }

  /**
   * Unmaps [gpa, gpa + size). Every page of it must be mapped (else ENOENT); a mapping only partly
   * inside the range is split, the parts outside stay mapped.
   */
  unmap(gpa: number, size: number): void {
    const impl = this.liveUnshared('unmap');
    checkPageAligned('unmap gpa', gpa, 0, MAX_GPA - PAGE_SIZE);
    checkPageAligned('unmap size', size, PAGE_SIZE, MAX_GPA - gpa);
    const hit = this.gpaMap.overlapping(gpa, size);
    const cursor = firstUnmapped(hit, gpa, size);
    if (cursor !== undefined) {
      throw new VmmError('ENOENT', `unmap: ${hex(cursor)} in range ${hex(gpa)}+${hex(size)} is not mapped`);
    }
    for (const r of hit) this.unmapRange(impl, r, gpa, gpa + size);
    this.owner.machineChanged(this);
  }

  /** Removes range r, then maps back its parts outside [start, end). */
  private unmapRange(impl: BackendMachine, r: GpaRange, start: number, end: number): void {
    impl.unmap(r.gpa, r.size);
    this.gpaMap.remove(r);
    const keep: GpaRange[] = [];
    if (r.gpa < start) keep.push({ ...r, size: start - r.gpa });
    if (r.gpa + r.size > end) keep.push({ ...r, gpa: end, offset: r.offset + (end - r.gpa), size: r.gpa + r.size - end });
    for (const k of keep) {
      impl.map(k.gpa, k.memory, k.offset, k.size, k.prot);
      this.gpaMap.insert(k);
    }
  }

  /**
   * The host wrote guest RAM in [gpa, gpa + size) through its own view of it (device DMA, a
   * loader): on a machine created with { hostWrites: 'announced' }, call this after the bytes are
   * in and before the next run() of any of its vCPUs. Every byte must be mapped (else EFAULT).
   * Allowed on any machine and from any thread's view of it: soft drops what was decoded from
   * those pages whatever the machine's hostWrites (on an 'unannounced' machine each run's start
   * re-checks them anyway); KVM, whose hardware sees host writes, only checks the range.
   */
  hostWrote(gpa: number, size: number): void {
    const impl = this.live();
    checkInt('hostWrote gpa', gpa, 0, MAX_GPA - 1);
    checkInt('hostWrote size', size, 1, MAX_GPA - gpa);
    const start = gpa - (gpa % PAGE_SIZE);
    const end = Math.ceil((gpa + size) / PAGE_SIZE) * PAGE_SIZE;
    const unmapped = firstUnmapped(this.gpaMap.overlapping(start, end - start), start, end - start);
    if (unmapped !== undefined) {
      throw new VmmError('EFAULT', `hostWrote: ${hex(Math.max(unmapped, gpa))} in range ${hex(gpa)}+${hex(size)} is not mapped`);
    }
    impl.hostWrote(start, end - start);
  }

  /** The host memory behind a guest-physical address, or undefined when nothing is mapped there. */
  gpaToHost(gpa: number): HostLocation | undefined {
    this.live();
    checkInt('gpa', gpa, 0, Number.MAX_SAFE_INTEGER);
    const r = this.gpaMap.find(gpa);
    if (r === undefined) return undefined;
    return { memory: r.memory, offset: r.offset + (gpa - r.gpa), prot: r.prot };
  }

  /** The mapped ranges, sorted by GPA. */
  mappings(): readonly { gpa: number; size: number; offset: number; prot: Prot }[] {
    this.live();
    return this.gpaMap.all.map(({ gpa, size, offset, prot }) => ({ gpa, size, offset, prot }));
  }

  createVcpu(id: number): Vcpu {
    const impl = this.live();
    checkInt('vCPU id', id, 0, this.owner.capability.maxVcpus - 1);
    if (this.vcpuById.has(id)) throw new VmmError('EEXIST', `machine ${this.id}: vCPU ${id} already exists`);
    const vcpu = new Vcpu(this.vcpuHost, id, impl.createVcpu(id));
    this.vcpuById.set(id, vcpu);
    this.owner.machineChanged(this);
    return vcpu;
  }

  /** The live vCPU with this id, or undefined. */
  vcpu(id: number): Vcpu | undefined {
    this.live();
    return this.vcpuById.get(id);
  }

  /** Destroys the vCPUs, the backend machine, and gives back the memory from allocate(). */
  destroy(): void {
    const impl = this.live();
    this.destroyed = true;
    try {
      for (const v of [...this.vcpuById.values()]) v.destroy();
      impl.destroy();
      for (const m of this.memories) this.owner.backend.release(m);
    } finally {
      this.memories.clear();
      this.vcpuById.clear();
      this.owner.machineDestroyed(this);
    }
  }
}

/** The first address of [gpa, gpa + size) no range of hit (sorted by gpa) maps, or undefined. */
function firstUnmapped(hit: readonly GpaRange[], gpa: number, size: number): number | undefined {
  let cursor = gpa;
  for (const r of hit) {
    if (r.gpa > cursor) break;
    cursor = r.gpa + r.size;
  }
  return cursor < gpa + size ? cursor : undefined;
}
