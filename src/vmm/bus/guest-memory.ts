/**
 * Guest RAM as a DMA-capable device sees it: guest-physical ranges, bounds-checked. A device never
 * holds a Machine or a backend; the monitor gives it a GuestMemory over the machine's RAM mapping
 * (RegionGuestMemory over the Uint8Arrays that back each RAM region does that), tests give it one
 * over a plain Uint8Array.
 *
 * Every address a guest hands a device (a descriptor, a ring, a buffer) goes through view(), which
 * raises VmmError 'EFAULT' naming the range when any byte of it is not RAM: a device turns that
 * into its documented error handling, never a host crash.
 */
import { VmmError, hex } from '../../api/errors.js';

export interface GuestMemory {
  /**
   * The guest bytes [gpa, gpa + length) as a host view: writes to the view are guest writes.
   * Throws VmmError 'EFAULT' when the range is not wholly inside one RAM region (guest-physical
   * RAM on x86 has holes, and a buffer never spans one).
   */
  view(gpa: number, length: number): Uint8Array;
}

/** One RAM region: guest-physical base and the host bytes behind it. */
export interface RamRegion {
  readonly gpa: number;
  readonly bytes: Uint8Array;
}

/**
 * GuestMemory over a fixed set of RAM regions (the monitor's RAM map, or one array in tests).
 * handedOut, when given, hears of every view before it is returned: any view may be written, and a
 * machine whose host writes are announced (MachineOptions.hostWrites) must be told of each.
 */
export class RegionGuestMemory implements GuestMemory {
  private readonly regions: readonly RamRegion[];

  constructor(regions: readonly RamRegion[], private readonly handedOut?: (gpa: number, length: number) => void) {
    const sorted = [...regions].sort((a, b) => a.gpa - b.gpa);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!, cur = sorted[i]!;
      if (prev.gpa + prev.bytes.length > cur.gpa) {
        throw new VmmError('EEXIST', `RAM regions at ${hex(prev.gpa)} and ${hex(cur.gpa)} overlap`);
      }
    }
    this.regions = sorted;
  }

  view(gpa: number, length: number): Uint8Array {
    // Guest-supplied addresses are 64-bit values turned into numbers: anything beyond 2^53 or
    // negative, fractional, or a length that is not a count of bytes is outside RAM by definition.
    if (Number.isSafeInteger(gpa) && gpa >= 0 && Number.isSafeInteger(length) && length >= 0) {
      for (const r of this.regions) {
        if (gpa >= r.gpa && gpa + length <= r.gpa + r.bytes.length) {
          const start = gpa - r.gpa;
          this.handedOut?.(gpa, length);
          return r.bytes.subarray(start, start + length);
        }
      }
    }
    const where = Number.isSafeInteger(gpa) && gpa >= 0 ? hex(gpa) : `${gpa} (not below 2^53)`;
    throw new VmmError('EFAULT', `guest-physical range ${where}+${Number.isSafeInteger(length) && length >= 0 ? hex(length) : String(length)} is not RAM`);
  }
}

/** One Uint8Array as guest RAM at guest-physical base (0 by default): for tests. */
export class ArrayGuestMemory extends RegionGuestMemory {
  constructor(readonly bytes: Uint8Array, readonly base = 0) {
    super([{ gpa: base, bytes }]);
  }
}

// Little-endian accessors: the guest structures devices read (virtqueues, MSI-X tables) are
// little-endian, and going through view() keeps every access bounds-checked.

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * 16-bit reads and writes are single aligned atomic accesses when the host allows (little-endian,
 * aligned view): ring indices are 16-bit, and a vCPU in another thread must neither see a torn
 * index nor see an index before the ring entries it publishes (Atomics are sequentially consistent).
 */
function atomicU16(b: Uint8Array): Uint16Array | undefined {
  return HOST_LITTLE_ENDIAN && (b.byteOffset & 1) === 0 ? new Uint16Array(b.buffer, b.byteOffset, 1) : undefined;
}

export function readU16(mem: GuestMemory, gpa: number): number {
  const b = mem.view(gpa, 2);
  const w = atomicU16(b);
  return w ? Atomics.load(w, 0) : b[0]! | (b[1]! << 8);
}

export function readU32(mem: GuestMemory, gpa: number): number {
  const b = mem.view(gpa, 4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** A 64-bit guest value as a number; values of 2^53 or more come back as Infinity (never RAM). */
export function readU64(mem: GuestMemory, gpa: number): number {
  const lo = readU32(mem, gpa), hi = readU32(mem, gpa + 4);
  return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
}

export function writeU16(mem: GuestMemory, gpa: number, value: number): void {
  const b = mem.view(gpa, 2);
  const w = atomicU16(b);
  if (w) {
    Atomics.store(w, 0, value & 0xffff);
    return;
  }
  b[0] = value & 0xff;
  b[1] = (value >>> 8) & 0xff;
}

export function writeU32(mem: GuestMemory, gpa: number, value: number): void {
  const b = mem.view(gpa, 4);
  b[0] = value & 0xff;
  b[1] = (value >>> 8) & 0xff;
  b[2] = (value >>> 16) & 0xff;
  b[3] = (value >>> 24) & 0xff;
}
