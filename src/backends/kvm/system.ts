/**
 * /dev/kvm itself: opening it, the API version, capability checks, and the host's supported
 * CPUID table. One KvmSystem per process (the fd is shared by every Backend opened).
 */
import { VmmError } from '../../api/errors.js';
import { KVM, KVM_CAP } from './ioctls.js';
import { CPUID2, CPUID_ENTRY } from './structs.js';
import { check, kvmError, ioctlRetry } from './kvm-error.js';
import { NativeBlock } from './native-block.js';
import { O_CLOEXEC, O_RDWR, errno, sys } from './libc.js';

export const KVM_API_VERSION = 12;
/** Capabilities without which the backend cannot implement the contract. */
const REQUIRED_CAPS: ReadonlyArray<[keyof typeof KVM_CAP, string]> = [
  ['USER_MEMORY', 'user memory regions'],
  ['IMMEDIATE_EXIT', 'immediate exit (needed by stop())'],
  ['VCPU_EVENTS', 'vCPU events (interrupt state, injection)'],
  ['DEBUGREGS', 'debug registers'],
  ['XCRS', 'XCR0 access'],
  ['SYNC_REGS', 'synced registers in kvm_run'],
];

export interface CpuidEntry {
  fn: number; index: number; flags: number; eax: number; ebx: number; ecx: number; edx: number;
}

export class KvmSystem {
  readonly fd: number;
  readonly vcpuMmapSize: number;
  readonly caps: { readonlyMem: boolean; userSpaceMsr: boolean; msrFilter: boolean; maxVcpus: number; memSlots: number };
  private cpuid: CpuidEntry[] | undefined;

  private constructor(fd: number) {
    this.fd = fd;
    const version = ioctlRetry(fd, KVM.GET_API_VERSION, 0);
    if (version !== KVM_API_VERSION) {
      throw new VmmError('ENODEV', `kvm: /dev/kvm API version is ${version}, this backend speaks ${KVM_API_VERSION}`);
    }
    for (const [cap, what] of REQUIRED_CAPS) {
      if (this.extension(KVM_CAP[cap]) <= 0) throw new VmmError('ENODEV', `kvm: host lacks KVM_CAP_${cap} (${what})`);
    }
    this.vcpuMmapSize = check('KVM_GET_VCPU_MMAP_SIZE', ioctlRetry(fd, KVM.GET_VCPU_MMAP_SIZE, 0));
    this.caps = {
      readonlyMem: this.extension(KVM_CAP.READONLY_MEM) > 0,
      userSpaceMsr: this.extension(KVM_CAP.X86_USER_SPACE_MSR) > 0,
      msrFilter: this.extension(KVM_CAP.X86_MSR_FILTER) > 0,
      maxVcpus: Math.max(this.extension(KVM_CAP.MAX_VCPUS), this.extension(KVM_CAP.NR_VCPUS)),
      memSlots: this.extension(KVM_CAP.NR_MEMSLOTS),
    };
  }

  extension(cap: number): number {
    return ioctlRetry(this.fd, KVM.CHECK_EXTENSION, cap);
  }

  /** KVM_GET_SUPPORTED_CPUID, fetched once. */
  supportedCpuid(): readonly CpuidEntry[] {
    if (this.cpuid) return this.cpuid;
    for (let n = 128; n <= 4096; n *= 2) {
      const block = new NativeBlock(CPUID2.entries + n * CPUID2.entrySize);
      try {
        block.view.setUint32(CPUID2.nent, n, true);
        if (ioctlRetry(this.fd, KVM.GET_SUPPORTED_CPUID, block.addr) < 0) {
          if (errno() === 7 /* E2BIG */) continue;
          throw kvmError('KVM_GET_SUPPORTED_CPUID');
        }
        this.cpuid = readCpuidEntries(block.view, block.view.getUint32(CPUID2.nent, true));
        return this.cpuid;
      } finally {
        block.free();
      }
    }
    throw new VmmError('E2BIG', 'kvm: KVM_GET_SUPPORTED_CPUID needs more than 4096 entries');
  }

  private static instance: KvmSystem | undefined;
  private static failure: string | undefined;

  /** The process-wide /dev/kvm handle; throws VmmError ENODEV naming why when unusable. */
  static get(): KvmSystem {
    if (KvmSystem.instance) return KvmSystem.instance;
    if (KvmSystem.failure) throw new VmmError('ENODEV', KvmSystem.failure);
    const fd = sys.open('/dev/kvm', O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const err = errno();
      KvmSystem.failure = `kvm: cannot open /dev/kvm: ${sys.strerror(err)} (errno ${err})`;
      throw new VmmError('ENODEV', KvmSystem.failure);
    }
    try {
      KvmSystem.instance = new KvmSystem(fd);
    } catch (e) {
      sys.close(fd);
      KvmSystem.failure = (e as Error).message.replace(/^[A-Z0-9]+: /, '');
      throw e;
    }
    return KvmSystem.instance;
  }
}

export function readCpuidEntries(view: DataView, n: number): CpuidEntry[] {
  const out: CpuidEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = CPUID2.entries + i * CPUID2.entrySize;
    out.push({
      fn: view.getUint32(o + CPUID_ENTRY.function, true),
      index: view.getUint32(o + CPUID_ENTRY.index, true),
      flags: view.getUint32(o + CPUID_ENTRY.flags, true),
      eax: view.getUint32(o + CPUID_ENTRY.eax, true),
      ebx: view.getUint32(o + CPUID_ENTRY.ebx, true),
      ecx: view.getUint32(o + CPUID_ENTRY.ecx, true),
      edx: view.getUint32(o + CPUID_ENTRY.edx, true),
    });
  }
  return out;
}

export function writeCpuidEntries(view: DataView, entries: readonly CpuidEntry[]): void {
  view.setUint32(CPUID2.nent, entries.length, true);
  entries.forEach((e, i) => {
    const o = CPUID2.entries + i * CPUID2.entrySize;
    view.setUint32(o + CPUID_ENTRY.function, e.fn, true);
    view.setUint32(o + CPUID_ENTRY.index, e.index, true);
    view.setUint32(o + CPUID_ENTRY.flags, e.flags, true);
    view.setUint32(o + CPUID_ENTRY.eax, e.eax >>> 0, true);
    view.setUint32(o + CPUID_ENTRY.ebx, e.ebx >>> 0, true);
    view.setUint32(o + CPUID_ENTRY.ecx, e.ecx >>> 0, true);
    view.setUint32(o + CPUID_ENTRY.edx, e.edx >>> 0, true);
  });
}
