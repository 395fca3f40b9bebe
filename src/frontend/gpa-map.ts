/**
 * A machine's guest-physical address space: non-overlapping page-aligned ranges, each backed by
 * part of a GuestMemory. Kept sorted by GPA so lookups (done by the assists on every MMIO access)
 * are a binary search.
 */
import type { Prot } from '../api/types.js';
import type { GuestMemory } from '../backends/backend.js';

export interface GpaRange {
  readonly gpa: number;
  readonly size: number;
  readonly memory: GuestMemory;
  /** Offset of gpa inside memory. */
  readonly offset: number;
  readonly prot: Prot;
}

export class GpaMap {
  private ranges: GpaRange[] = [];

  /** All ranges, sorted by GPA. */
  get all(): readonly GpaRange[] {
    return this.ranges;
  }

  /** Index of the last range starting at or below gpa, or -1. */
  private floor(gpa: number): number {
    let lo = 0, hi = this.ranges.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.gpa <= gpa) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  find(gpa: number): GpaRange | undefined {
    const r = this.ranges[this.floor(gpa)];
    return r !== undefined && gpa < r.gpa + r.size ? r : undefined;
  }

  /** The first range intersecting [gpa, gpa + size), or undefined. */
  firstOverlap(gpa: number, size: number): GpaRange | undefined {
    const i = this.floor(gpa);
    const before = this.ranges[i];
    if (before !== undefined && before.gpa + before.size > gpa) return before;
    const after = this.ranges[i + 1];
    return after !== undefined && after.gpa < gpa + size ? after : undefined;
  }

  /** The ranges intersecting [gpa, gpa + size), in GPA order. */
  overlapping(gpa: number, size: number): GpaRange[] {
    return this.ranges.filter((r) => r.gpa < gpa + size && gpa < r.gpa + r.size);
  }

  /** Caller has checked that the range overlaps nothing. */
  insert(range: GpaRange): void {
    this.ranges.splice(this.floor(range.gpa) + 1, 0, range);
  }

  remove(range: GpaRange): void {
    const i = this.ranges.indexOf(range);
    if (i >= 0) this.ranges.splice(i, 1);
  }

  /** Total mapped bytes. */
  get mappedBytes(): number {
    return this.ranges.reduce((sum, r) => sum + r.size, 0);
  }

  /** How many ranges use this memory. */
  uses(memory: GuestMemory): number {
    return this.ranges.filter((r) => r.memory === memory).length;
  }
}
