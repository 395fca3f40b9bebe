/**
 * The soft backend: a pure-TypeScript x86-64 CPU behind the Backend interface, the embedded
 * default wherever KVM is missing. Entry points wired into Hypervisor.open by the frontend.
 *
 * Layout: state.ts (registers as int32 halves) + cpu.ts (segmentation, TLB-backed memory access,
 * fetch with a decoded-instruction cache per guest-physical page, invalidated by writes to it,
 * holding straight-line blocks of instructions compiled by src/x86/exec/compile.ts; hot blocks
 * become one generated function, block-compile.ts, and link to their successors) + paging.ts/tlb.ts (the shared walker in src/x86/mmu fills a direct-mapped TLB) + run.ts (run
 * loop, events, windows, stop) + exceptions.ts (IVT/IDT delivery, #DF, triple fault) + the
 * system instructions (system.ts dispatches to control-regs, descriptor-tables, segment-insns,
 * far-transfer, fast-syscall, flags-insns, io, msr, cpuid, fpu, xsave). General-purpose instructions
 * are src/x86/exec's; decoding is src/x86/decoder's.
 *
 * Exits follow the KVM backend's fields: io/rdmsr/wrmsr/cpuid leave RIP on the instruction with
 * npc (IN/OUT complete at the next run() as on KVM, exit-completion.ts; assistIo completes
 * INS/OUTS, the VMM the others); 'memory' is raised before the instruction has any
 * side effect; HLT exits 'halted' with RIP past it; MONITOR/MWAIT exit with RIP past them.
 * As on KVM, executing from a guest-physical address without RAM is an 'invalid' exit, and event
 * delivery that needs memory outside RAM (IDT, GDT, TSS, stack) faults (#DF, triple fault).
 * Deterministic: TSC = tscOffset + instructions retired. Not implemented (reported as 'invalid'
 * exits naming them, never skipped): SSE/AVX arithmetic (the x87 is complete: x87.ts),
 * hardware task switches, call gates, virtual-8086 mode, BOUND, hardware breakpoints (a MOV to
 * DR7 enabling one); TF single-stepping is implemented.
 */
import { allocateWasmRam } from './wasm/arena.js';
import { VmmError } from '../../api/errors.js';
import type { Capability, HostWrites, TscSource } from '../../api/types.js';
import type { AttachedMachine, Backend, BackendMachine, GuestMemory } from '../backend.js';
import { MXCSR_MASK } from './fpu.js';
import { CR4_SUPPORTED, EFER_SUPPORTED } from './state.js';
import { MAX_PHYS_ADDR_BITS } from './paging.js';
import { SoftMachine } from './vcpu.js';
import { XCR0_SUPPORTED } from './xsave.js';
import { adviseHugePages, releasePages } from '../../host/ram-pages.js';


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
        // The state components the soft CPU keeps: x87 and SSE (XMM, MXCSR), which is exactly
        // what XSETBV accepts (xsave.ts): no AVX or later components.
        xcr0Mask: BigInt(XCR0_SUPPORTED),
        mxcsrMask: MXCSR_MASK,
        cpuidMaxOps: 64,
        // What MOV CR4 / WRMSR EFER accept in the guest (state.ts), so setState agrees with them.
        cr4Mask: BigInt(CR4_SUPPORTED >>> 0),
        eferMask: BigInt(EFER_SUPPORTED >>> 0),
        physAddrBits: MAX_PHYS_ADDR_BITS,
      },
    };
  }

  allocate(size: number): GuestMemory {
    this.open();
    // Shared so that other threads (a monitor's workers) can see the same guest RAM; a wasm
    // memory where it fits, so compiled wasm blocks can address it (wasm/arena.ts). Huge pages
    // where the host has them (ram-pages.ts).
    try {
      const bytes = allocateWasmRam(size) ?? new Uint8Array(new SharedArrayBuffer(size));
      adviseHugePages(bytes);
      return { bytes, size };
    } catch (e) {
      throw new VmmError('ENOMEM', `soft backend: cannot allocate ${size} bytes of guest RAM (${(e as Error).message})`);
    }
  }

  /** The pages go back to the host now (ram-pages.ts); the buffer itself waits for the GC. */
  release(memory: GuestMemory): void {
    releasePages(memory.bytes);
  }

  createMachine(options: { tsc?: TscSource; hostWrites?: HostWrites } = {}): BackendMachine {
    this.open();
    return new SoftMachine(options.tsc === 'host' ? process.hrtime.bigint() : undefined, options.hostWrites === 'announced');
  }

  attachMachine(data: Record<string, unknown>): AttachedMachine {
    this.open();
    return SoftMachine.attach(data);
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
