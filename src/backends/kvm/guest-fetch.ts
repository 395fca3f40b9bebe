/**
 * Reads the bytes at the guest's CS:RIP (for npc, the REP/string flags and a memory exit's
 * instBytes), translating through the guest's page tables with the shared MMU walker. Stops
 * early at an untranslatable or unmapped page: the result may be shorter than asked, or empty.
 */
import { ACCESS_PROBE, walk } from '../../x86/mmu/index.js';
import type { PagingRegs, PhysMemory } from '../../x86/mmu/index.js';
import type { KvmMachine } from './machine.js';

/** A PhysMemory over a KVM machine's slots, for the walker. */
export function machinePhysMemory(machine: KvmMachine): PhysMemory {
  return {
    read32(gpa: number): number | undefined {
      const at = machine.locate(gpa);
      if (!at || at.offset + 4 > at.bytes.length) return undefined;
      const b = at.bytes, o = at.offset;
      return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
    },
  };
}

/**
 * Copies up to out.length bytes from the guest linear address hi:lo (two 32-bit halves, so
 * high-half kernel addresses stay exact) into out; returns how many could be read.
 */
export function readGuestLinear(
  machine: KvmMachine, phys: PhysMemory, regs: PagingRegs, hi: number, lo: number, out: Uint8Array, first?: HostSpan,
): number {
  let done = 0;
  if (first) first.n = 0;
  while (done < out.length) {
    const sum = (lo >>> 0) + done;
    const aLo = sum >>> 0, aHi = (hi + (sum > 0xffffffff ? 1 : 0)) | 0;
    const r = walk(regs, phys, aHi, aLo, ACCESS_PROBE);
    if (!r.ok) break;
    const at = machine.locate(r.gpa);
    if (!at) break;
    const inPage = 4096 - (aLo & 0xfff);
    const n = Math.min(out.length - done, inPage, at.bytes.length - at.offset);
    out.set(at.bytes.subarray(at.offset, at.offset + n), done);
    if (first && done === 0) { first.bytes = at.bytes; first.offset = at.offset; first.n = n; }
    done += n;
  }
  return done;
}

/** Where the first contiguous piece of a readGuestLinear() came from in host memory. */
export interface HostSpan { bytes: Uint8Array; offset: number; n: number }
