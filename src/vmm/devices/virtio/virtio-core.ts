/**
 * The transport-independent half of a virtio 1.x device: device status and its state machine,
 * feature negotiation, the queues, and running a queue when the driver notifies it. The PCI
 * transport (pci-transport.ts) maps its registers onto this; an MMIO transport could too.
 *
 * Guest errors never escape as exceptions: a malformed chain, a ring outside RAM or a buffer
 * layout the device type refuses sets DEVICE_NEEDS_RESET (3.1.1, 2.1.2), raises a configuration
 * change interrupt, counts in `errors` with the reason in `lastError`, and stops the device until
 * the driver resets it. Work per notify is bounded by the queue size.
 */
import { VmmError } from '../../../api/errors.js';
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { VirtioDeviceModel } from './device-model.js';
import { SplitQueue } from './split-queue.js';
import { VIRTIO_F, VIRTIO_MSI_NO_VECTOR, VIRTIO_STATUS, featureBit } from './constants.js';

/** How the device raises its two kinds of interrupt; the transport decides the mechanism. */
export interface VirtioInterrupts {
  queue(q: SplitQueue): void;
  config(): void;
  /** The device was reset: withdraw any interrupt still asserted. */
  reset(): void;
}

/** Feature bits every device here offers on top of its own. */
const TRANSPORT_FEATURES = featureBit(VIRTIO_F.VERSION_1) | featureBit(VIRTIO_F.INDIRECT_DESC) | featureBit(VIRTIO_F.EVENT_IDX);

export class VirtioCore {
  status = 0;
  /** Feature bits offered, and those the driver wrote. */
  readonly offered: bigint;
  driverFeatures = 0n;
  configGeneration = 0;
  configVector = VIRTIO_MSI_NO_VECTOR;
  readonly queues: SplitQueue[];
  /** Guest errors that put the device in DEVICE_NEEDS_RESET, and the last reason. */
  errors = 0;
  lastError = '';
  /** Notifies ignored because the function may not master the bus (DMA off). */
  blockedNotifies = 0;
  /** Chains served since creation. */
  served = 0;

  constructor(
    readonly model: VirtioDeviceModel,
    private readonly mem: GuestMemory,
    private readonly interrupts: VirtioInterrupts,
    /** Whether the device may access guest memory now (PCI: Bus Master Enable). */
    private readonly dmaAllowed: () => boolean = () => true,
  ) {
    this.offered = model.features | TRANSPORT_FEATURES;
    this.queues = model.queueSizes.map((n, i) => new SplitQueue(i, n));
  }

  get negotiated(): bigint {
    return this.status & VIRTIO_STATUS.FEATURES_OK ? this.driverFeatures : 0n;
  }

  /** The driver writes device_status: 0 resets; FEATURES_OK sticks only for acceptable features. */
  writeStatus(value: number): void {
    value &= 0xff;
    if (value === 0) {
      this.reset();
      return;
    }
    const was = this.status;
    let next = (value & ~VIRTIO_STATUS.DEVICE_NEEDS_RESET) | (was & VIRTIO_STATUS.DEVICE_NEEDS_RESET);
    if (next & VIRTIO_STATUS.FEATURES_OK && !(was & VIRTIO_STATUS.FEATURES_OK) && !this.featuresAcceptable()) {
      next &= ~VIRTIO_STATUS.FEATURES_OK;
    }
    if ((next & VIRTIO_STATUS.DRIVER_OK) && !(next & VIRTIO_STATUS.FEATURES_OK)) {
      // DRIVER_OK without negotiated features is a driver bug (3.1.1): refuse to go live.
      this.status = next & ~VIRTIO_STATUS.DRIVER_OK;
      this.fail('DRIVER_OK set before FEATURES_OK');
      return;
    }
    this.status = next;
    if (next & VIRTIO_STATUS.FEATURES_OK) {
      const f = this.driverFeatures;
      for (const q of this.queues) {
        q.eventIdx = (f & featureBit(VIRTIO_F.EVENT_IDX)) !== 0n;
        q.indirect = (f & featureBit(VIRTIO_F.INDIRECT_DESC)) !== 0n;
      }
    }
  }

  /** Feature bits may change only until FEATURES_OK; half selects bits 0-31 or 32-63. */
  writeDriverFeatures(half: number, value: number): void {
    if (this.status & VIRTIO_STATUS.FEATURES_OK || half > 1) return;
    const shift = BigInt(32 * half);
    this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(value >>> 0) << shift);
  }

  /** The driver sets queue_enable: the queue goes live if what it programmed is valid. */
  enableQueue(q: SplitQueue): void {
    if (q.enabled) return;
    try {
      q.validate(this.mem);
      q.enabled = true;
    } catch (e) {
      this.guestError(e);
    }
  }

  /**
   * The driver notified queue index: serve what it made available. A device with something new
   * for the driver (a received frame) calls this too, to fill the buffers the driver left.
   */
  notify(index: number): void {
    const q = this.queues[index];
    if (!q || !q.enabled || !(this.status & VIRTIO_STATUS.DRIVER_OK) || this.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) return;
    if (!this.dmaAllowed()) {
      this.blockedNotifies++;
      return;
    }
    const oldUsed = q.usedIdx;
    try {
      // At most one queue's worth of chains per notify: a driver refilling concurrently cannot
      // keep the device here forever. With EVENT_IDX, publish avail_event and look again so that
      // a chain added in between is not left without a notify.
      let budget = q.size;
      const hasWork = (): boolean => this.model.hasWork?.(index) ?? true;
      for (;;) {
        while (budget > 0 && hasWork()) {
          const chain = q.pop(this.mem);
          if (!chain) break;
          budget--;
          const written = this.model.handle(index, chain, this.mem);
          q.push(this.mem, chain.head, Math.min(written, chain.writableLength));
          this.served++;
        }
        q.publishAvailEvent(this.mem);
        if (budget === 0 || !hasWork() || !q.hasAvailable(this.mem)) break;
      }
    } catch (e) {
      this.guestError(e);
    }
    if (q.usedIdx !== oldUsed && !(this.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) && this.safeNeedsInterrupt(q, oldUsed)) {
      this.interrupts.queue(q);
    }
  }

  /** The device's configuration changed: new generation, and a configuration interrupt. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) & 0xff;
    if (this.status & VIRTIO_STATUS.DRIVER_OK) this.interrupts.config();
  }

  reset(): void {
    this.status = 0;
    this.driverFeatures = 0n;
    this.configVector = VIRTIO_MSI_NO_VECTOR;
    for (const q of this.queues) q.reset();
    this.model.reset();
    this.interrupts.reset();
  }

  /** Enters DEVICE_NEEDS_RESET for a guest error, and tells the driver. */
  fail(reason: string): void {
    this.errors++;
    this.lastError = reason;
    const wasBroken = (this.status & VIRTIO_STATUS.DEVICE_NEEDS_RESET) !== 0;
    this.status |= VIRTIO_STATUS.DEVICE_NEEDS_RESET;
    if (!wasBroken && this.status & VIRTIO_STATUS.DRIVER_OK) this.configChanged();
  }

  private guestError(e: unknown): void {
    if (!(e instanceof VmmError)) throw e;
    this.fail(e.message);
  }

  private safeNeedsInterrupt(q: SplitQueue, oldUsed: number): boolean {
    try {
      return q.needsInterrupt(this.mem, oldUsed);
    } catch (e) {
      this.guestError(e);
      return false;
    }
  }

  private featuresAcceptable(): boolean {
    const f = this.driverFeatures;
    return (f & ~this.offered) === 0n && (f & featureBit(VIRTIO_F.VERSION_1)) !== 0n;
  }
}
