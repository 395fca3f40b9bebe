/**
 * A vCPU stand-in for unit tests of the assists: a full VcpuState in JS and guest RAM in one byte
 * array at GPA 0 (everything above it is MMIO). No backend involved: this checks the assists'
 * own logic; the guest tests check them against a real CPU.
 */
import type { Fpu, Gprs, Segs, VcpuState, VcpuStateInput } from '../../src/api/types.js';
import type { GuestCpu, HostLocation } from '../../src/x86/mmu/index.js';
import { longModeState, realModeState } from '../../src/x86/boot-state.js';

export class FakeCpu implements GuestCpu {
  state: Pick<VcpuState, 'gprs' | 'segs' | 'crs' | 'msrs' | 'fpu'>;
  getCalls = 0;
  setCalls = 0;
  readonly machine: { gpaToHost: (gpa: number) => HostLocation | undefined };

  /** gpaToHost: the machine's view of guest-physical memory (default: ram at GPA 0, MMIO above). */
  constructor(readonly ram: Uint8Array, init: VcpuStateInput, gpaToHost?: (gpa: number) => HostLocation | undefined) {
    this.state = {
      gprs: init.gprs as Gprs,
      segs: init.segs as Segs,
      crs: { cr0: 0n, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n, xcr0: 1n, ...init.crs },
      msrs: { efer: 0n, star: 0n, lstar: 0n, cstar: 0n, sfmask: 0n, kernelgsbase: 0n, sysenterCs: 0n, sysenterEsp: 0n, sysenterEip: 0n, pat: 0n, tsc: 0n, ...init.msrs },
      fpu: initialFpu(),
    };
    const memory = { bytes: ram };
    this.machine = { gpaToHost: gpaToHost ?? ((gpa) => (gpa >= 0 && gpa < ram.length ? { memory, offset: gpa, prot: 'rwx' } : undefined)) };
  }

  getState(): Partial<VcpuState> {
    this.getCalls++;
    // Groups are returned by reference except the GPRs (the assists never mutate what they read).
    return { ...this.state, gprs: { ...this.state.gprs } };
  }

  setState(s: VcpuStateInput): void {
    this.setCalls++;
    if (s.gprs) this.state.gprs = { ...this.state.gprs, ...s.gprs } as Gprs;
    if (s.segs) this.state.segs = { ...this.state.segs, ...s.segs } as Segs;
    if (s.crs) this.state.crs = { ...this.state.crs, ...s.crs };
    if (s.fpu) this.state.fpu = { ...this.state.fpu, ...s.fpu };
  }

  get gprs(): Gprs {
    return this.state.gprs;
  }
  setRegs(g: Partial<Gprs>): void {
    this.state.gprs = { ...this.state.gprs, ...g };
  }
  /** Places code at gpa and points RIP there. */
  code(gpa: number, bytes: number[]): void {
    this.ram.set(bytes, gpa);
    this.state.gprs.rip = BigInt(gpa);
  }
}

/** The x87/SSE state after FNINIT with MXCSR at its reset value, every register zero. */
export function initialFpu(): Fpu {
  return {
    fcw: 0x37f, fsw: 0, ftw: 0, fop: 0, fip: 0n, fdp: 0n, mxcsr: 0x1f80, mxcsrMask: 0xffff,
    st: Array.from({ length: 8 }, () => new Uint8Array(10)), xmm: Array.from({ length: 16 }, () => new Uint8Array(16)),
  };
}

export const RAM_SIZE = 0x200000;

/** 64-bit long mode, identity map of 4 MiB (the top 2 MiB are MMIO), at the given CPL. */
export function longModeCpu(cpl: 0 | 3 = 0): FakeCpu {
  const ram = new Uint8Array(RAM_SIZE);
  const st = longModeState({ ram, ramGpa: 0, tablesGpa: 0x100000, mapBytes: 4 << 20 }, { entry: 0x1000, stack: 0x80000, cpl });
  return new FakeCpu(ram, st);
}

/** Real mode at 0:0x1000 with 1 MiB of RAM... limited to RAM_SIZE; DS = ES = 0. */
export function realModeCpu(): FakeCpu {
  const ram = new Uint8Array(0x80000);   // 512 KiB RAM; linear 0x80000 and up is MMIO
  return new FakeCpu(ram, realModeState(0, 0x1000));
}
