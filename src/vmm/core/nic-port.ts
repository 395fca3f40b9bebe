/**
 * One packet device's receive path in the vCPU thread (a virtio-net NIC, the vsock device): frames the main thread put in the NIC's frame ring
 * (frame-ring.ts) move into the virtio-net backlog while it has room, and the receive queue runs
 * so that they land in the guest's buffers with an interrupt. Frames stay in the ring while the
 * backlog is full (the main thread then drops network frames at a full ring and counts them,
 * while vsock packets wait there: lossless-ring-writer.ts); frames that arrive while
 * the driver has not set DRIVER_OK are dropped and counted, as a NIC that is down drops them.
 */
import { VIRTIO_STATUS } from '../devices/virtio/constants.js';
import type { VirtioCore } from '../devices/virtio/virtio-core.js';
import type { FrameRingReader } from './frame-ring.js';

/** What a device that queues host packets for its receive queue offers (VirtioNet, VirtioVsock). */
export interface PacketReceiver {
  readonly rxQueue: number;
  readonly backlogHasRoom: boolean;
  readonly pendingFrames: number;
  /** Queues a packet (copied); false: dropped and counted. */
  receive(packet: Uint8Array): boolean;
}

export class NicPort {
  /** Frames dropped because the driver was not running. */
  droppedWhileDown = 0;

  constructor(readonly nic: PacketReceiver, private readonly transport: VirtioCore, private readonly ring: FrameRingReader) {}

  private get driverRunning(): boolean {
    const s = this.transport.status;
    return (s & VIRTIO_STATUS.DRIVER_OK) !== 0 && (s & VIRTIO_STATUS.DEVICE_NEEDS_RESET) === 0;
  }

  /** Whether pump() would take a frame from the ring now: what a halted vCPU's idle wait wakes for. */
  get hostFramesReady(): boolean {
    return this.ring.pending && (!this.driverRunning || this.nic.backlogHasRoom);
  }

  /** Before each run: ring to backlog, backlog to the guest's receive buffers. */
  pump(): void {
    if (this.ring.pending) {
      if (!this.driverRunning) this.droppedWhileDown += this.ring.drain(() => true);
      else this.ring.drain((frame) => this.nic.backlogHasRoom && (this.nic.receive(frame), true));
    }
    if (this.nic.pendingFrames > 0) this.transport.notify(this.nic.rxQueue);
  }
}
