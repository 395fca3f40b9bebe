/**
 * Network frames from the main thread (where the NetBackend lives) to the vCPU thread (where the
 * NIC is), which is inside the guest or asleep and reads no messages: a ring of length-prefixed
 * records in shared memory, one writer and one reader. Positions are free-running 32-bit byte
 * counters (the capacity is a power of two, so they wrap consistently); a record is a 4-byte
 * little-endian length and the frame, both of which may wrap around the ring's end. A frame that
 * does not fit is refused and counted, never partly written. Waking the reader (doorbell, vCPU
 * stop) is the writer's owner's business: see launcher.ts.
 */
import { VmmError } from '../../api/errors.js';

export const DEFAULT_FRAME_RING_BYTES = 1 << 20;
/** The largest frame the ring carries: a 64 KiB IP datagram in an Ethernet frame with headers to spare. */
export const MAX_RING_FRAME_BYTES = 65550;
const LENGTH_BYTES = 4;
const HEAD = 0, TAIL = 1, DROPPED = 2, WORDS = 4;

export interface FrameRingBuffers { ctl: SharedArrayBuffer; ring: SharedArrayBuffer }

export function createFrameRing(bytes = DEFAULT_FRAME_RING_BYTES): FrameRingBuffers {
  if (!Number.isInteger(bytes) || bytes < 64 || (bytes & (bytes - 1)) !== 0 || bytes > 2 ** 30) {
    throw new VmmError('EINVAL', `frame ring size ${bytes} must be a power of two in [64, 2^30]`);
  }
  return { ctl: new SharedArrayBuffer(WORDS * 4), ring: new SharedArrayBuffer(bytes) };
}

class FrameRingEnd {
  protected readonly ctl: Int32Array;
  protected readonly ring: Uint8Array;
  protected readonly mask: number;
  constructor(b: FrameRingBuffers) {
    this.ctl = new Int32Array(b.ctl);
    this.ring = new Uint8Array(b.ring);
    this.mask = this.ring.length - 1;
  }

  get capacity(): number { return this.ring.length; }

  /** Bytes in the ring (records with their length words). */
  get used(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL)) >>> 0;
  }

  /** Frames the writer refused (ring full, or too long). */
  get dropped(): number {
    return Atomics.load(this.ctl, DROPPED) >>> 0;
  }

  protected copyIn(pos: number, src: Uint8Array): void {
    const at = pos & this.mask, first = Math.min(src.length, this.ring.length - at);
    this.ring.set(src.subarray(0, first), at);
    if (first < src.length) this.ring.set(src.subarray(first), 0);
  }

  protected copyOut(pos: number, dst: Uint8Array): void {
    const at = pos & this.mask, first = Math.min(dst.length, this.ring.length - at);
    dst.set(this.ring.subarray(at, at + first));
    if (first < dst.length) dst.set(this.ring.subarray(0, dst.length - first), first);
  }
}

/** The main thread's end. */
export class FrameRingWriter extends FrameRingEnd {
  /** Whether a frame of this many bytes fits now (the reader only ever makes more room). */
  hasRoomFor(length: number): boolean {
    const head = Atomics.load(this.ctl, HEAD) >>> 0, tail = Atomics.load(this.ctl, TAIL) >>> 0;
    return LENGTH_BYTES + length <= this.ring.length - ((head - tail) >>> 0);
  }

  /**
   * Queues one frame; false (and counted in `dropped`) when it is empty, longer than
   * MAX_RING_FRAME_BYTES, or there is no room for it now.
   */
  write(frame: Uint8Array): boolean {
    if (frame.length === 0 || frame.length > MAX_RING_FRAME_BYTES || !this.hasRoomFor(frame.length)) {
      Atomics.add(this.ctl, DROPPED, 1);
      return false;
    }
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    const need = LENGTH_BYTES + frame.length;
    const length = new Uint8Array(LENGTH_BYTES);
    new DataView(length.buffer).setUint32(0, frame.length, true);
    this.copyIn(head, length);
    this.copyIn(head + LENGTH_BYTES, frame);
    // Publishing the head after the bytes: the reader's Atomics.load of it sees them (release/acquire).
    Atomics.store(this.ctl, HEAD, (head + need) | 0);
    return true;
  }
}

/** The vCPU thread's end. */
export class FrameRingReader extends FrameRingEnd {
  /** Whether a frame is waiting. */
  get pending(): boolean {
    return Atomics.load(this.ctl, HEAD) !== Atomics.load(this.ctl, TAIL);
  }

  /**
   * Offers waiting frames in order to accept(frame), consuming each it accepts, until it refuses
   * one (left for next time) or the ring is empty. Returns how many were consumed.
   */
  drain(accept: (frame: Uint8Array) => boolean): number {
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    let tail = Atomics.load(this.ctl, TAIL) >>> 0, taken = 0;
    const length = new Uint8Array(LENGTH_BYTES), lengthView = new DataView(length.buffer);
    while (tail !== head) {
      this.copyOut(tail, length);
      const n = lengthView.getUint32(0, true);
      // The writer is this program's own main thread; a bad length there is a monitor bug, not guest input.
      if (n === 0 || n > MAX_RING_FRAME_BYTES || LENGTH_BYTES + n > ((head - tail) >>> 0)) {
        throw new VmmError('EIO', `frame ring corrupt: record of ${n} bytes with ${(head - tail) >>> 0} bytes queued`);
      }
      const frame = new Uint8Array(n);
      this.copyOut(tail + LENGTH_BYTES, frame);
      if (!accept(frame)) break;
      tail = (tail + LENGTH_BYTES + n) >>> 0;
      Atomics.store(this.ctl, TAIL, tail | 0);
      taken++;
    }
    return taken;
  }
}
