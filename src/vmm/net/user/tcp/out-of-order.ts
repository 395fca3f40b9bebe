/**
 * Guest segments that arrived ahead of a gap, held until the gap is filled. Bounded in count and
 * in bytes; the connection only offers what lies inside its receive window.
 */
import { seqAdd, seqLe } from './sequence.js';

export class OutOfOrderQueue {
  private readonly segments = new Map<number, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxSegments: number, private readonly maxBytes: number) {}

  get size(): number {
    return this.segments.size;
  }

  /** Keeps a copy of the segment if there is room (a segment at the same sequence number is kept once). */
  add(seq: number, payload: Uint8Array): void {
    if (this.segments.size >= this.maxSegments || this.segments.has(seq) || this.bytes + payload.length > this.maxBytes) return;
    this.segments.set(seq, payload.slice());
    this.bytes += payload.length;
  }

  /**
   * Hands every held segment that now starts at or before rcvNxt() to deliver (which moves rcvNxt),
   * and forgets those wholly before it.
   */
  drain(rcvNxt: () => number, deliver: (seq: number, data: Uint8Array) => void): void {
    for (let progress = true; progress && this.segments.size > 0;) {
      progress = false;
      for (const [seq, data] of this.segments) {
        if (seqLe(seqAdd(seq, data.length), rcvNxt())) { this.forget(seq, data); continue; }
        if (seqLe(seq, rcvNxt())) {
          this.forget(seq, data);
          deliver(seq, data);
          progress = true;
        }
      }
    }
  }

  clear(): void {
    this.segments.clear();
    this.bytes = 0;
  }

  private forget(seq: number, data: Uint8Array): void {
    this.segments.delete(seq);
    this.bytes -= data.length;
  }
}
