/** Hand-built page tables in a flat test RAM, for the walker tests. */
import { physMemoryOfBytes, type PhysMemory } from '../../src/x86/mmu/index.js';

export class TestRam {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly mem: PhysMemory;
  private next = 0x1000;
  constructor(size = 0x40000) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.mem = physMemoryOfBytes(this.bytes);
  }
  /** A fresh zeroed 4 KiB table; returns its GPA. */
  table(): number {
    const gpa = this.next;
    this.next += 0x1000;
    return gpa;
  }
  set64(gpa: number, hi: number, lo: number): void {
    this.view.setUint32(gpa, lo >>> 0, true);
    this.view.setUint32(gpa + 4, hi >>> 0, true);
  }
  set32(gpa: number, v: number): void {
    this.view.setUint32(gpa, v >>> 0, true);
  }
  lo(gpa: number): number {
    return this.view.getUint32(gpa, true);
  }
}

export const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, XD = 0x80000000;
