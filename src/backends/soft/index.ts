/**
 * The soft backend: a pure-TypeScript x86-64 CPU behind the Backend interface, the embedded
 * default wherever KVM is missing. Entry points wired into Hypervisor.open by the frontend.
 */
import { VmmError } from '../../api/errors.js';
import type { Capability, VcpuStopHandle } from '../../api/types.js';
import type { Backend, BackendMachine, GuestMemory } from '../backend.js';
import { MXCSR_MASK } from './fpu.js';
import { SoftMachine } from './vcpu.js';

/** Largest guest RAM per machine: what a SharedArrayBuffer-backed Uint8Array can hold comfortably. */
const MAX_RAM = 4 * 2 ** 30;
/** NVMM's sizeof(struct nvmm_x64_state), the serialized state size the contract reports. */
const STATE_SIZE = 10 * 16 + 18 * 8 + 6 * 8 + 6 * 8 + 11 * 8 + 8 + 512; // same layout as the KVM backend reports

class SoftBackend implements Backend {
  readonly name = 'soft' as const;
  private closed = false;

  capability(): Capability {
    return {
      version: 1,
      stateSize: STATE_SIZE,
      maxMachines: 128,
      maxVcpus: 128,
      maxRam: MAX_RAM,
      arch: {
        vcpuConf: { cpuid: true, tpr: true },
        xcr0Mask: 1n,
        mxcsrMask: MXCSR_MASK,
        cpuidMaxOps: 64,
      },
    };
  }

  allocate(size: number): GuestMemory {
    this.open();
    // Shared so that other threads (a monitor's workers) can see the same guest RAM.
    return { bytes: new Uint8Array(new SharedArrayBuffer(size)), size };
  }

  release(_memory: GuestMemory): void {
    // Garbage-collected: nothing to unmap.
  }

  createMachine(): BackendMachine {
    this.open();
    return new SoftMachine();
  }

  close(): void {
    this.closed = true;
  }

  private open(): void {
    if (this.closed) throw new VmmError('EINVAL', 'soft backend is closed');
  }
}

export function openSoftBackend(): Backend {
  return new SoftBackend();
}

/** Stops a soft vCPU from any thread, given its stopHandle(). */
export function softStopFromHandle(handle: VcpuStopHandle): void {
  const flag = handle.data['stop'];
  if (!(flag instanceof SharedArrayBuffer) || flag.byteLength < 4) {
    throw new VmmError('EINVAL', `soft backend: stop handle has no 4-byte SharedArrayBuffer 'stop' (got ${typeof flag})`);
  }
  Atomics.store(new Int32Array(flag), 0, 1);
}
