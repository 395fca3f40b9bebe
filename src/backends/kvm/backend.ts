/** The Backend object for KVM: capability figures, guest RAM, machines. */
import { State } from '../../api/types.js';
import type { Capability, TscSource } from '../../api/types.js';
import { VmmError } from '../../api/errors.js';
import type { AttachedMachine, Backend, BackendMachine, GuestMemory } from '../backend.js';
import { totalmem } from 'node:os';
import { KvmSystem } from './system.js';
import { KvmMachine } from './machine.js';
import { allocateRam, releaseRam } from './guest-ram.js';
import { probeCr4Mask, probeMxcsrMask } from './probe.js';
import { kvmEferMask } from './control-bits.js';

/** Size of NVMM's struct nvmm_x64_state: 10 segments x 16, 18 GPRs, 6 CRs, 6 DRs, 11 MSRs, intr, 512-byte FXSAVE. */
export const NVMM_X64_STATE_SIZE = 10 * 16 + 18 * 8 + 6 * 8 + 6 * 8 + 11 * 8 + 8 + 512;
export const MAX_MACHINES = 128;
export const MAX_VCPUS = 128;
export const CPUID_MAX_OPS = 128;

export class KvmBackend implements Backend {
  readonly name = 'kvm' as const;
  readonly system: KvmSystem;
  private cap: Capability | undefined;

  constructor() {
    this.system = KvmSystem.get();
  }

  capability(): Capability {
    if (this.cap) return this.cap;
    const cpuid = this.system.supportedCpuid();
    const leafD = cpuid.find((e) => e.fn === 0xd && e.index === 0);
    const xcr0Mask = leafD ? (BigInt(leafD.edx) << 32n) | BigInt(leafD.eax) : 0x3n;
    const ext8 = cpuid.find((e) => e.fn === 0x80000008);
    const physBits = ext8 ? ext8.eax & 0xff : 36;
    // The guest can address 2^MAXPHYADDR bytes; the host can back at most its own RAM.
    const maxRam = Math.min(2 ** physBits, totalmem(), Number.MAX_SAFE_INTEGER);
    this.cap = {
      version: 1,
      stateSize: NVMM_X64_STATE_SIZE,
      maxMachines: MAX_MACHINES,
      maxVcpus: MAX_VCPUS,
      maxRam: Math.floor(maxRam / 4096) * 4096,
      arch: {
        vcpuConf: { cpuid: true, tpr: true },
        xcr0Mask,
        mxcsrMask: probeMxcsrMask(this.system),
        cpuidMaxOps: CPUID_MAX_OPS,
        cr4Mask: probeCr4Mask(this.system),
        eferMask: kvmEferMask(cpuid),
        physAddrBits: physBits,
      },
    };
    return this.cap;
  }

  allocate(size: number): GuestMemory {
    return allocateRam(size);
  }

  release(memory: GuestMemory): void {
    releaseRam(memory);
  }

  createMachine(options: { tsc?: TscSource } = {}): BackendMachine {
    // A KVM guest's TSC is the host's (scaled and offset by KVM): there is no instruction count to follow.
    if (options.tsc !== undefined && options.tsc !== 'host') throw new VmmError('ENOTSUP', `kvm: tsc '${options.tsc}' is not available; a KVM guest's TSC follows the host's ('host')`);
    return new KvmMachine(this.system);
  }

  attachMachine(): AttachedMachine {
    throw new VmmError('ENOTSUP', 'kvm: attaching to a machine from another thread is not implemented yet (its vCPUs run in the thread that created the machine)');
  }

  close(): void {
    // The /dev/kvm fd is shared by every Backend of the process and stays open.
  }
}

/** Re-exported for callers that check flags against what this backend fills. */
export const KVM_STATE_GROUPS = State.ALL;
