/**
 * Guest RAM: anonymous mmap'd host memory (never a JS ArrayBuffer), exposed to JS with
 * koffi.view so that GuestMemory.bytes aliases exactly what the guest sees.
 *
 * release() gives the pages back with MADV_DONTNEED but keeps the address range mapped: a
 * Uint8Array the caller still holds (say, to read results after destroying the machine) then
 * reads zeros instead of faulting the whole process. Only the last RETAINED released ranges
 * stay mapped (the process's count of mappings is limited); older ones are unmapped, so a view
 * kept across more than RETAINED later releases must not be touched. retireMapping() does the
 * same for other mappings JS views alias (the kvm_run page of a destroyed vCPU, which an exit's
 * data points into).
 */
import { VmmError, hex } from '../../api/errors.js';
import type { GuestMemory } from '../backend.js';
import {
  MADV_DONTNEED, MAP_ANONYMOUS, MAP_FAILED, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE, errno, nativeView, sys,
} from './libc.js';

class KvmGuestMemory implements GuestMemory {
  released = false;
  constructor(readonly addr: bigint, readonly size: number, readonly bytes: Uint8Array) {}
}

export function allocateRam(size: number): GuestMemory {
  const addr = sys.mmap(null, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (addr === MAP_FAILED || addr === 0n) {
    throw new VmmError('ENOMEM', `kvm: cannot map ${hex(size)} bytes of guest RAM (errno ${errno()})`);
  }
  return new KvmGuestMemory(addr, size, nativeView(addr, size));
}

/** The host address of memory from allocateRam (the frontend passes only those back). */
export function ramAddress(memory: GuestMemory): bigint {
  if (!(memory instanceof KvmGuestMemory)) {
    throw new VmmError('EINVAL', 'kvm: guest memory was not allocated by this backend');
  }
  if (memory.released) throw new VmmError('ENOENT', `kvm: guest memory at ${hex(memory.addr)} was released`);
  return memory.addr;
}

const RETAINED = 1024;
const retained: { addr: bigint; size: number }[] = [];

function retain(range: { addr: bigint; size: number }): void {
  retained.push(range);
  if (retained.length > RETAINED) {
    const old = retained.shift()!;
    sys.munmap(old.addr, old.size);
  }
}

/** Replaces a mapping with zero pages at the same address (stale views read zeros), retained as above. */
export function retireMapping(addr: bigint, size: number): void {
  const at = sys.mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (at !== addr) {
    sys.munmap(addr, size);
    return;
  }
  retain({ addr, size });
}

export function releaseRam(memory: GuestMemory): void {
  if (!(memory instanceof KvmGuestMemory) || memory.released) return;
  memory.released = true;
  sys.madvise(memory.addr, memory.size, MADV_DONTNEED);
  retain(memory);
}
