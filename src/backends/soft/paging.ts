/**
 * TLB fills for the soft CPU. The page walk itself is the shared, non-throwing walker in
 * src/x86/mmu (32-bit, PAE, 4-level; A/D bits as hardware); this module feeds it the CPU's
 * paging registers and guest-physical memory, turns a fault record into #PF (with CR2) and a
 * success into a TLB entry (tlb.ts), and raises a MemoryExitSignal for pages without RAM.
 */
import { X86Fault } from '../../x86/exec/context.js';
import {
  walk as mmuWalk, ACCESS_FETCH as MMU_FETCH, ACCESS_SET_AD, ACCESS_USER as MMU_USER,
  ACCESS_WRITE as MMU_WRITE, PROT_EXEC, PROT_USER, PROT_WRITE, type PagingRegs, type PhysMemory as MmuPhys,
} from '../../x86/mmu/index.js';
import type { PhysMemory } from './memory.js';
import { ExitSignal, MemoryExitSignal } from './signals.js';
import { CR0_PG, CR0_WP, type CpuState } from './state.js';
import { P_RS, P_RU, P_WS, P_WU, P_XS, P_XU, TLB_MASK, type Tlb } from './tlb.js';

export const ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_FETCH = 2;
export type Access = 0 | 1 | 2;

/** Physical-address width the soft CPU reports (CPUID 0x80000008) and the walker enforces. */
export const MAX_PHYS_ADDR_BITS = 40;
const TWO32 = 4294967296;

export interface PagingHost extends CpuState {
  readonly phys: PhysMemory;
  readonly tlb: Tlb;
  /** True when the guest-physical page holds cached decoded code. */
  isCodePage(physPage: number): boolean;
}

/** Guest-physical 32-bit access for the walker, over the machine's RAM regions. */
export function walkerMemory(phys: PhysMemory): MmuPhys {
  return {
    read32(gpa: number): number | undefined {
      const r = phys.find(gpa);
      if (!r || gpa + 4 > r.gpa + r.size) return undefined;
      const b = r.memory.bytes, o = r.offset + (gpa - r.gpa);
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    },
    write32(gpa: number, v: number): void {
      const r = phys.find(gpa);
      if (!r) return; // read32 just succeeded at this gpa; cannot happen
      const b = r.memory.bytes, o = r.offset + (gpa - r.gpa);
      b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24;
    },
  };
}

const regs: PagingRegs = { cr0: 0, cr3Lo: 0, cr3Hi: 0, cr4: 0, efer: 0, rflags: 0, maxPhyAddr: MAX_PHYS_ADDR_BITS };
const memCache = new WeakMap<PhysMemory, MmuPhys>();

/**
 * Translates lin for access and fills its TLB slot; returns the slot index. Throws X86Fault
 * (#PF with CR2 set) or a MemoryExitSignal for a physical page without RAM. Write rights go
 * into the entry only on a write walk (which has set the dirty bit).
 */
export function walk(host: PagingHost, lin: number, access: Access, user: boolean, size: number): number {
  const linPage = Math.floor(lin / 4096);
  let gpa: number;
  let perm: number;
  let global = false;
  if (!(host.cr0 & CR0_PG)) {
    gpa = lin >>> 0;
    perm = P_RS | P_RU | P_WS | P_WU | P_XS | P_XU;
  } else {
    regs.cr0 = host.cr0; regs.cr4 = host.cr4; regs.efer = host.efer; regs.rflags = host.flags;
    const cr3Hi = Math.floor(host.cr3 / TWO32);
    regs.cr3Hi = cr3Hi; regs.cr3Lo = (host.cr3 - cr3Hi * TWO32) >>> 0;
    let mem = memCache.get(host.phys);
    if (!mem) { mem = walkerMemory(host.phys); memCache.set(host.phys, mem); }
    const hi = Math.floor(lin / TWO32);
    const bits = (user ? MMU_USER : 0) |
      (access === ACCESS_WRITE ? MMU_WRITE : access === ACCESS_FETCH ? MMU_FETCH : 0);
    const lo = (lin - hi * TWO32) >>> 0;
    // First a checking walk, then (only when the access is allowed) one that sets the accessed
    // and dirty bits: a faulting access leaves the tables untouched, as KVM and the CPUs do.
    let r = mmuWalk(regs, mem, hi | 0, lo, bits);
    if (r.ok) r = mmuWalk(regs, mem, hi | 0, lo, bits | ACCESS_SET_AD);
    if (!r.ok) {
      if (r.vector === 14) host.cr2 = lin;
      throw new X86Fault(r.vector, r.errorCode, r.reason);
    }
    gpa = r.gpa;
    global = r.global;
    const p = r.prot;
    const wp = (host.cr0 & CR0_WP) !== 0;
    perm = P_RS | (p & PROT_USER ? P_RU : 0);
    if (access === ACCESS_WRITE) perm |= (p & PROT_WRITE || !wp ? P_WS : 0) | (p & PROT_WRITE && p & PROT_USER ? P_WU : 0);
    if (p & PROT_EXEC) perm |= P_XS | (p & PROT_USER ? P_XU : 0);
  }
  const physPage = Math.floor(gpa / 4096);
  const region = host.phys.find(physPage * 4096);
  if (!region) {
    if (access === ACCESS_FETCH) {
      // Code cannot run from MMIO: KVM reports this as an internal (emulation) error, and so an
      // 'invalid' exit here too, RIP on the instruction (never a memory exit no assist can serve).
      const gva = lin === gpa ? '' : ` (linear 0x${lin.toString(16)})`;
      throw new ExitSignal({ reason: 'invalid', detail: `soft: instruction fetch from guest-physical 0x${gpa.toString(16)}${gva}, which is not RAM` });
    }
    // MMIO: never cached in the TLB, every access exits.
    throw new MemoryExitSignal(gpa, access === ACCESS_WRITE, size, access === ACCESS_WRITE ? 'w' : 'r');
  }
  if (!region.writable || host.isCodePage(physPage)) perm &= ~(P_WS | P_WU);
  const i = linPage & TLB_MASK;
  host.tlb.fill(i, linPage, perm, physPage, region.views, region.offset + (physPage * 4096 - region.gpa), global);
  return i;
}
