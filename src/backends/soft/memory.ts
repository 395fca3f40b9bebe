/**
 * The guest-physical address space of a soft machine: RAM ranges mapped with a protection.
 * Anything not mapped is MMIO for the VMM (a 'memory' exit). Also tracks which guest pages hold
 * decoded code, so that writes to them invalidate the decoded-instruction cache.
 */
import type { Prot } from '../../api/types.js';
import type { GuestMemory } from '../backend.js';

export interface PhysRegion {
  gpa: number;
  size: number;
  memory: GuestMemory;
  /** Offset of gpa inside memory.bytes. */
  offset: number;
  writable: boolean;
  executable: boolean;
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
    });
    this.regions.sort((a, b) => a.gpa - b.gpa);
    this.generation++;
  }

  unmap(gpa: number, size: number): void {
    this.regions = this.regions.filter((r) => !(r.gpa === gpa && r.size === size));
    this.generation++;
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
