/**
 * A frame ring writer that never drops: what does not fit waits, in order, in a backlog the main
 * thread retries until the vCPU thread has made room. For vsock, whose packets carry a byte stream
 * with no retransmission (a lost packet would silently cut data out of a connection); network
 * frames use the plain writer, since dropping them is what a full NIC does and TCP recovers.
 * The backlog is bounded by the producer: the vsock bridge sends no more than the guest's credit.
 */
import { VmmError } from '../../api/errors.js';
import { MAX_RING_FRAME_BYTES, type FrameRingWriter } from './frame-ring.js';

/** How often a full ring is retried: the vCPU thread drains it before each run (at least every few ms). */
const RETRY_MS = 1;

export class LosslessRingWriter {
  private readonly backlog: Uint8Array[] = [];
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** Most packets ever waiting at once (for -v and tests). */
  peakBacklog = 0;

  /** wake: tells the vCPU thread that packets are waiting (called after each write that lands). */
  constructor(private readonly ring: FrameRingWriter, private readonly wake: () => void) {}

  /** Takes the packet (kept as is while it waits: the caller must not reuse its bytes). */
  write(packet: Uint8Array): void {
    if (packet.length === 0 || packet.length > MAX_RING_FRAME_BYTES) {
      throw new VmmError('EINVAL', `a ${packet.length}-byte packet cannot cross the frame ring (1..${MAX_RING_FRAME_BYTES} bytes)`);
    }
    if (this.backlog.length === 0 && this.ring.hasRoomFor(packet.length)) {
      this.ring.write(packet);
      this.wake();
      return;
    }
    this.backlog.push(packet);
    this.peakBacklog = Math.max(this.peakBacklog, this.backlog.length);
    this.scheduleRetry();
  }

  get waiting(): number {
    return this.backlog.length;
  }

  /** Stops retrying (the machine ended); what waits is discarded with the machine. */
  close(): void {
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    this.backlog.length = 0;
  }

  private scheduleRetry(): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      let moved = false;
      while (this.backlog.length !== 0 && this.ring.hasRoomFor(this.backlog[0]!.length)) {
        this.ring.write(this.backlog.shift()!);
        moved = true;
      }
      if (moved) this.wake();
      if (this.backlog.length !== 0) this.scheduleRetry();
    }, RETRY_MS);
  }
}
