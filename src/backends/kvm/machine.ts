/**
 * A KVM VM: its fd, its memory slots (one per frontend map() range) and its vCPUs.
 * prot 'r'/'rx' become KVM_MEM_READONLY slots (guest writes exit as MMIO writes). KVM has no
 * no-execute slot flag, so 'rw' and 'r' ranges stay executable: the guest's own page tables
 * (NX) are the only way to forbid fetches there.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { Prot } from '../../api/types.js';
import type { BackendMachine, BackendVcpu, GuestMemory } from '../backend.js';
import {
  KVM, KVM_CAP, KVM_MEM_READONLY, KVM_MSR_EXIT_REASON_FILTER, KVM_MSR_EXIT_REASON_UNKNOWN,
} from './ioctls.js';
import { ENABLE_CAP, ENABLE_CAP_SIZE, KVM_MSR_FILTER_READ_WRITE, MEMORY_REGION, MSR_FILTER } from './structs.js';

/** MSRs that always exit to the caller: IA32_APIC_BASE (no in-kernel local APIC here). */
export const USER_MSRS: readonly number[] = [0x1b];
import { check, kvmError, ioctlRetry } from './kvm-error.js';
import { sharedScratch } from './native-block.js';
import { sys } from './libc.js';
import { ramAddress } from './guest-ram.js';
import type { KvmSystem } from './system.js';
import { KvmVcpu } from './vcpu.js';

export interface Slot {
  slot: number;
  gpa: number;
  size: number;
  /** The host bytes of this range (a subarray of the GuestMemory). */
  bytes: Uint8Array;
  readonly: boolean;
}

export class KvmMachine implements BackendMachine {
  readonly fd: number;
  readonly system: KvmSystem;
  readonly slots: Slot[] = [];
  private readonly vcpus = new Set<KvmVcpu>();
  private destroyed = false;

  constructor(system: KvmSystem) {
    this.system = system;
    this.fd = check('KVM_CREATE_VM', ioctlRetry(system.fd, KVM.CREATE_VM, 0));
    // Intel hosts need a 3-page TSS area below 4 GiB for real-mode emulation; harmless elsewhere.
    ioctlRetry(this.fd, KVM.SET_TSS_ADDR, 0xfffbd000);
    if (system.caps.userSpaceMsr) this.enableUserSpaceMsrExits();
  }

  /**
   * MSRs KVM does not know exit to user space (rdmsr/wrmsr exits) instead of raising #GP, and so
   * do the MSRs that belong to the platform rather than the CPU (USER_MSRS): with no in-kernel
   * local APIC, IA32_APIC_BASE is the VMM's business, as on NVMM (an MSR filter denies KVM
   * those, which makes them exit).
   */
  private enableUserSpaceMsrExits(): void {
    const block = sharedScratch();
    block.zero(ENABLE_CAP_SIZE);
    block.view.setUint32(ENABLE_CAP.cap, KVM_CAP.X86_USER_SPACE_MSR, true);
    block.view.setBigUint64(ENABLE_CAP.args, BigInt(KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER), true);
    if (ioctlRetry(this.fd, KVM.ENABLE_CAP, block.addr) < 0) throw kvmError('KVM_ENABLE_CAP(X86_USER_SPACE_MSR)');
    if (!this.system.caps.msrFilter) return;
    const BITMAP = 1024; // one all-zero (deny) bit per range, after the filter structure
    block.zero(BITMAP + 8);
    const v = block.view;
    USER_MSRS.forEach((msr, i) => {
      const r = MSR_FILTER.ranges + i * MSR_FILTER.rangeSize;
      v.setUint32(r + MSR_FILTER.rangeFlags, KVM_MSR_FILTER_READ_WRITE, true);
      v.setUint32(r + MSR_FILTER.rangeNmsrs, 1, true);
      v.setUint32(r + MSR_FILTER.rangeBase, msr, true);
      v.setBigUint64(r + MSR_FILTER.rangeBitmap, block.addr + BigInt(BITMAP + i), true);
    });
    if (ioctlRetry(this.fd, KVM.X86_SET_MSR_FILTER, block.addr) < 0) throw kvmError('KVM_X86_SET_MSR_FILTER');
  }

  map(gpa: number, memory: GuestMemory, offset: number, size: number, prot: Prot): void {
    const readonly = prot === 'r' || prot === 'rx';
    if (readonly && !this.system.caps.readonlyMem) {
      throw new VmmError('ENOTSUP', `kvm: read-only mapping at ${hex(gpa)} needs KVM_CAP_READONLY_MEM, which this host lacks`);
    }
    const host = ramAddress(memory) + BigInt(offset);
    const slot = this.freeSlot();
    this.setRegion(slot, readonly ? KVM_MEM_READONLY : 0, gpa, size, host, `map ${hex(gpa)}+${hex(size)}`);
    this.slots.push({ slot, gpa, size, bytes: memory.bytes.subarray(offset, offset + size), readonly });
  }

  unmap(gpa: number, size: number): void {
    const i = this.slots.findIndex((s) => s.gpa === gpa && s.size === size);
    if (i < 0) throw new VmmError('ENOENT', `kvm: no mapping at ${hex(gpa)}+${hex(size)}`);
    const s = this.slots[i]!;
    this.setRegion(s.slot, 0, gpa, 0, 0n, `unmap ${hex(gpa)}+${hex(size)}`);
    this.slots.splice(i, 1);
  }

  /** The host bytes backing gpa, and the offset of gpa in them. */
  locate(gpa: number): { bytes: Uint8Array; offset: number } | undefined {
    for (const s of this.slots) {
      if (gpa >= s.gpa && gpa < s.gpa + s.size) return { bytes: s.bytes, offset: gpa - s.gpa };
    }
    return undefined;
  }

  /** The hardware fetches code from guest RAM as it is: a host write needs no announcing. */
  hostWrote(): void {}

  createVcpu(id: number): BackendVcpu {
    return this.addVcpu(new KvmVcpu(this, id));
  }

  /** A vCPU for the host probes of probe.ts (which must not run the probes themselves). */
  createProbeVcpu(id: number): KvmVcpu {
    return this.addVcpu(new KvmVcpu(this, id, true));
  }

  private addVcpu(vcpu: KvmVcpu): KvmVcpu {
    this.vcpus.add(vcpu);
    return vcpu;
  }

  vcpuGone(vcpu: KvmVcpu): void {
    this.vcpus.delete(vcpu);
  }

  share(): Record<string, unknown> {
    throw new VmmError('ENOTSUP', 'kvm: sharing a machine with another thread is not implemented yet (its vCPUs run in the thread that created the machine)');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const v of [...this.vcpus]) v.destroy();
    sys.close(this.fd);
  }

  private freeSlot(): number {
    const used = new Set(this.slots.map((s) => s.slot));
    for (let n = 0; n < this.system.caps.memSlots; n++) if (!used.has(n)) return n;
    throw new VmmError('ENOBUFS', `kvm: all ${this.system.caps.memSlots} memory slots are in use`);
  }

  private setRegion(slot: number, flags: number, gpa: number, size: number, host: bigint, what: string): void {
    const region = sharedScratch();
    const v = region.view;
    v.setUint32(MEMORY_REGION.slot, slot, true);
    v.setUint32(MEMORY_REGION.flags, flags, true);
    v.setBigUint64(MEMORY_REGION.guestPhysAddr, BigInt(gpa), true);
    v.setBigUint64(MEMORY_REGION.memorySize, BigInt(size), true);
    v.setBigUint64(MEMORY_REGION.userspaceAddr, host, true);
    if (ioctlRetry(this.fd, KVM.SET_USER_MEMORY_REGION, region.addr) < 0) throw kvmError(`KVM_SET_USER_MEMORY_REGION (${what})`);
  }
}
