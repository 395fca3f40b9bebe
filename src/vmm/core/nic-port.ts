/**
 * One NIC's receive path in the vCPU thread: frames the main thread put in the NIC's frame ring
 * (frame-ring.ts) move into the virtio-net backlog while it has room, and the receive queue runs
 * so that they land in the guest's buffers with an interrupt. Frames stay in the ring while the
 * backlog is full (the main thread then drops at a full ring and counts); frames that arrive while
 * the driver has not set DRIVER_OK are dropped and counted, as a NIC that is down drops them.
 */
import { VIRTIO_STATUS } from '../devices/virtio/constants.js';
import { NET_QUEUE, type VirtioNet } from '../devices/virtio/net.js';
import type { VirtioCore } from '../devices/virtio/virtio-core.js';
import type { FrameRingReader } from './frame-ring.js';

export class NicPort {
  /** Frames dropped because the driver was not running. */
  droppedWhileDown = 0;

  constructor(readonly nic: VirtioNet, private readonly transport: VirtioCore, private readonly ring: FrameRingReader) {}

  private get driverRunning(): boolean {
    const s = this.transport.status;
    return (s & VIRTIO_STATUS.DRIVER_OK) !== 0 && (s & VIRTIO_STATUS.DEVICE_NEEDS_RESET) === 0;
  }

  /** Whether pump() would take a frame from the ring now: what a halted vCPU's idle wait wakes for. */
  get hostFramesReady(): boolean {
    return this.ring.pending && (!this.driverRunning || this.nic.backlogHasRoom);
  }

  /** One line of what went through the NIC and what was dropped, for `tsvisor run -v`. */
  summary(): string {
    const t = this.nic.stats;
    return `tx ${t.txFrames} frames/${t.txBytes} bytes (${t.txDropped} dropped${t.txDropped ? `, last: ${this.nic.lastTxDrop}` : ''}), ` +
      `rx ${t.rxFrames} frames/${t.rxBytes} bytes (dropped: ${t.rxBacklogFull} backlog full, ${t.rxOversize} oversize, ${t.rxBufferTooSmall} buffer too small, ${this.droppedWhileDown} driver down)`;
  }

  /** Before each run: ring to backlog, backlog to the guest's receive buffers. */
  pump(): void {
    if (this.ring.pending) {
      if (!this.driverRunning) this.droppedWhileDown += this.ring.drain(() => true);
      else this.ring.drain((frame) => this.nic.backlogHasRoom && (this.nic.receive(frame), true));
    }
    if (this.nic.pendingFrames > 0) this.transport.notify(NET_QUEUE.RX);
  }
}
