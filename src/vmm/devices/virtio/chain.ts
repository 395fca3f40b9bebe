/**
 * One descriptor chain taken from a virtqueue: its device-readable buffers followed by its
 * device-writable ones, already validated to lie in guest RAM. Devices move data with
 * read()/write() (small headers, copied) or forEachView() (bulk data, zero-copy views of guest
 * RAM, e.g. straight into a positional file read).
 */
import type { GuestMemory } from '../../bus/guest-memory.js';

export interface Segment {
  readonly gpa: number;
  readonly length: number;
}

export class DescriptorChain {
  readonly readableLength: number;
  readonly writableLength: number;

  constructor(readonly head: number, readonly readable: readonly Segment[], readonly writable: readonly Segment[]) {
    this.readableLength = readable.reduce((n, s) => n + s.length, 0);
    this.writableLength = writable.reduce((n, s) => n + s.length, 0);
  }

  /** Copies readable bytes [offset, offset + dst.length) into dst; returns how many there were. */
  read(mem: GuestMemory, offset: number, dst: Uint8Array): number {
    let done = 0;
    this.forEachView(mem, 'readable', offset, dst.length, (v) => { dst.set(v, done); done += v.length; });
    return done;
  }

  /** Copies src into the writable part from offset; returns how many bytes fitted. */
  write(mem: GuestMemory, offset: number, src: Uint8Array): number {
    let done = 0;
    this.forEachView(mem, 'writable', offset, src.length, (v) => { v.set(src.subarray(done, done + v.length)); done += v.length; });
    return done;
  }

  /**
   * Calls fn with views of guest RAM covering [offset, offset + length) of the readable or writable
   * part, in order, with each view's position in that part. Stops at the part's end.
   */
  forEachView(mem: GuestMemory, part: 'readable' | 'writable', offset: number, length: number, fn: (view: Uint8Array, at: number) => void): void {
    let pos = 0;
    const end = offset + length;
    for (const s of part === 'readable' ? this.readable : this.writable) {
      const from = Math.max(offset, pos), to = Math.min(end, pos + s.length);
      if (from < to) fn(mem.view(s.gpa + (from - pos), to - from), from);
      pos += s.length;
      if (pos >= end) break;
    }
  }
}
