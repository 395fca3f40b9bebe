/**
 * The walker's only window on the guest: 32-bit little-endian reads (and, for Accessed/Dirty
 * updates, writes) of guest-physical memory. Page-table entries are read as two 32-bit halves so
 * the walk never needs BigInt.
 */
import { VmmError, hex } from '../../api/errors.js';

export interface PhysMemory {
  /** The 32-bit value at gpa (4-byte aligned), or undefined when gpa is not backed by guest RAM. */
  read32(gpa: number): number | undefined;
  /** Stores a 32-bit value at gpa; only needed when the walk sets Accessed/Dirty bits. */
  write32?(gpa: number, value: number): void;
}

/** What Machine.gpaToHost returns: the host memory holding gpa and gpa's byte offset in it. */
export interface HostLocation {
  memory: { readonly bytes: Uint8Array };
  offset: number;
  prot: string;
}
export type GpaToHost = (gpa: number) => HostLocation | undefined;

/** A PhysMemory over a machine's GPA map (Machine.gpaToHost). */
export function physMemoryOf(gpaToHost: GpaToHost): PhysMemory {
  const locate = (gpa: number): { view: DataView; off: number } | undefined => {
    const loc = gpaToHost(gpa);
    if (!loc || loc.offset + 4 > loc.memory.bytes.length) return undefined;
    const b = loc.memory.bytes;
    return { view: new DataView(b.buffer, b.byteOffset, b.byteLength), off: loc.offset };
  };
  return {
    read32(gpa) {
      const at = locate(gpa);
      return at ? at.view.getUint32(at.off, true) : undefined;
    },
    write32(gpa, value) {
      const at = locate(gpa);
      if (!at) throw new VmmError('EFAULT', `page-table entry at GPA ${hex(gpa)} is not in guest RAM`);
      at.view.setUint32(at.off, value >>> 0, true);
    },
  };
}

/** A PhysMemory over one flat byte array mapped at GPA base (tests, the soft CPU's RAM). */
export function physMemoryOfBytes(bytes: Uint8Array, base = 0): PhysMemory {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    read32(gpa) {
      const off = gpa - base;
      return off >= 0 && off + 4 <= bytes.length ? view.getUint32(off, true) : undefined;
    },
    write32(gpa, value) {
      const off = gpa - base;
      if (off < 0 || off + 4 > bytes.length) throw new VmmError('EFAULT', `GPA ${hex(gpa)} is outside the memory`);
      view.setUint32(off, value >>> 0, true);
    },
  };
}
