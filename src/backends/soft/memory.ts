/**
 * The guest-physical address space of a soft machine: RAM ranges mapped with a protection.
 * Anything not mapped is MMIO for the VMM (a 'memory' exit). Also tracks which guest pages hold
 * decoded code, so that writes to them invalidate the decoded-instruction cache.
 */
import type { Prot } from '../../api/types.js';
import type { GuestMemory } from '../backend.js';
import type { BufferViews, RamViews } from './tlb.js';

export interface PhysRegion {
  gpa: number;
  size: number;
  memory: GuestMemory;
  /** Offset of gpa inside memory.bytes. */
  offset: number;
  writable: boolean;
  executable: boolean;
  /** memory.bytes as typed views, for the TLB's fast path. */
  views: RamViews;
}

/** One set of views per allocation (a memory mapped at several places shares them), and per buffer. */
const viewCache = new WeakMap<Uint8Array, RamViews>();
const bufferViews = new WeakMap<ArrayBufferLike, BufferViews>();

/** Typed views read guest RAM as little-endian words only on a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The whole-buffer views exist only on a little-endian host; else every access takes the
 * byte-wise path.
 */
function viewsOf(bytes: Uint8Array): RamViews {
  let v = viewCache.get(bytes);
  if (v === undefined) {
    const buffer = bytes.buffer;
    let whole = bufferViews.get(buffer);
    if (whole === undefined && LITTLE_ENDIAN) {
      whole = { u8: new Uint8Array(buffer), u16: new Uint16Array(buffer, 0, buffer.byteLength >>> 1), i32: new Int32Array(buffer, 0, buffer.byteLength >>> 2) };
      bufferViews.set(buffer, whole);
    }
    v = { u8: bytes, buffer: whole };
    viewCache.set(bytes, v);
  }
  return v;
}

export class PhysMemory {
  /** Sorted by gpa, non-overlapping (the frontend checks). */
  regions: PhysRegion[] = [];
  /** Bumped on every map/unmap so CPUs drop their TLBs. */
  generation = 0;

  map(gpa: number, memory: GuestMemory, offset: number, size: number, prot: Prot): void {
    this.regions.push({
      gpa, size, memory, offset,
      writable: prot.includes('w'),
      executable: prot.includes('x'),
      views: viewsOf(memory.bytes),
    });
    this.regions.sort((a, b) => a.gpa - b.gpa);
    this.generation++;
  }

  unmap(gpa: number, size: number): void {
    this.regions = this.regions.filter((r) => !(r.gpa === gpa && r.size === size));
    this.generation++;
  }

  /** The views of the buffer of the largest RAM region (the TLB's fast path serves its pages), if any. */
  mainViews(): BufferViews | undefined {
    let best: PhysRegion | undefined;
    for (const r of this.regions) if (best === undefined || r.size > best.size) best = r;
    return best?.views.buffer;
  }

  /** The region holding gpa, or undefined (MMIO). */
  find(gpa: number): PhysRegion | undefined {
    const rs = this.regions;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (gpa < r.gpa) hi = mid - 1;
      else if (gpa >= r.gpa + r.size) lo = mid + 1;
      else return r;
    }
    return undefined;
  }
}
