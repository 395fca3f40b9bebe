/**
 * Cross-modifying code between soft vCPUs running in different threads (a shared machine).
 *
 * Each vCPU keeps its own decoded-code cache and withholds TLB write rights from the pages in it,
 * so its own writes to code take the slow path (cpu.ts). Another thread's vCPU cannot see that
 * cache, so the machine keeps, in shared memory, a count per guest page of the vCPUs caching code
 * there, and one epoch:
 * - a vCPU that starts caching a page counts it and bumps the epoch; every vCPU, at its next
 *   check, revokes its TLB write rights to counted pages, so writes there go the slow way;
 * - a write that takes the slow way to a counted page bumps the epoch after its bytes are in RAM;
 * - a vCPU that sees a new epoch re-validates each cached page against guest RAM on its next use
 *   (the snapshot compare it already does for host writes between runs) and drops stale links;
 *   it decodes from that snapshot, never from RAM, so a byte written and put back between two
 *   compares cannot leave an instruction decoded from the value in between (code-page.ts).
 * vCPUs check at every run() and every run slice (RUN_SLICE instructions). x86 asks the vCPU that
 * executes modified code to serialize (CPUID, IRET, an interrupt) after the modification; Linux's
 * text_poke and IPIs do, and an IPI ends the target's run. A write through a TLB entry filled
 * before another vCPU first executed that page, in the same slice, is the one case not seen.
 */
import type { PhysMemory } from './memory.js';

export interface CodeWatchShare {
  /** One Int32 per 4 KiB page of each RAM buffer, keyed like the buffers in the share. */
  counts: SharedArrayBuffer[];
  epoch: SharedArrayBuffer;
}

export class CodeWatch {
  private readonly counts = new Map<ArrayBufferLike, Int32Array>();
  private readonly epochWord: Int32Array;

  /** buffers[k] is the RAM buffer whose page counts are share.counts[k]. */
  constructor(private readonly phys: PhysMemory, buffers: readonly ArrayBufferLike[], readonly share: CodeWatchShare) {
    buffers.forEach((b, k) => this.counts.set(b, new Int32Array(share.counts[k]!)));
    this.epochWord = new Int32Array(share.epoch);
  }

  static create(phys: PhysMemory, buffers: readonly ArrayBufferLike[]): CodeWatch {
    return new CodeWatch(phys, buffers, {
      counts: buffers.map((b) => new SharedArrayBuffer(Math.ceil(b.byteLength / 4096) * 4)),
      epoch: new SharedArrayBuffer(4),
    });
  }

  get epoch(): number {
    return Atomics.load(this.epochWord, 0);
  }

  bump(): void {
    Atomics.add(this.epochWord, 0, 1);
  }

  /** The count word of a guest page (undefined: not RAM of this machine). */
  private at(physPage: number): { words: Int32Array; index: number } | undefined {
    const gpa = physPage * 4096;
    const r = this.phys.find(gpa);
    if (r === undefined) return undefined;
    const words = this.counts.get(r.memory.bytes.buffer);
    if (words === undefined) return undefined;
    return { words, index: (r.memory.bytes.byteOffset + r.offset + (gpa - r.gpa)) / 4096 };
  }

  /** Whether some vCPU caches code in the page. */
  cached(physPage: number): boolean {
    const w = this.at(physPage);
    return w !== undefined && Atomics.load(w.words, w.index) > 0;
  }

  /** This vCPU started caching code in the page. */
  enter(physPage: number): void {
    const w = this.at(physPage);
    if (w === undefined) return;
    Atomics.add(w.words, w.index, 1);
    this.bump();
  }

  /** This vCPU dropped its code of the page. */
  leave(physPage: number): void {
    const w = this.at(physPage);
    if (w !== undefined) Atomics.sub(w.words, w.index, 1);
  }
}
