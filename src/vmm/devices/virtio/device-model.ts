/**
 * What a virtio device type (block, entropy, ...) supplies to the transport: its identity, its
 * feature bits, its queues, its configuration space, and a handler for each buffer the driver
 * makes available. Handlers are synchronous and run in whatever thread the transport is called
 * from (a vCPU worker handling a notify write): no timers, no promises.
 */
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { DescriptorChain } from './chain.js';

export interface VirtioDeviceModel {
  /** Virtio device ID (5: 2 = block, 4 = entropy). */
  readonly deviceId: number;
  /** PCI class code (base << 16 | sub << 8 | interface). */
  readonly pciClass: number;
  /** Device-type feature bits offered (the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX). */
  readonly features: bigint;
  /** Maximum size of each queue (powers of two); the queue count is its length. */
  readonly queueSizes: readonly number[];
  /** Bytes of device-specific configuration. */
  readonly configSize: number;
  /** Reads the device configuration; bytes past configSize read 0. */
  readConfig(offset: number, data: Uint8Array): void;
  writeConfig(offset: number, data: Uint8Array): void;
  /**
   * Serves one chain taken from queue `queue` and returns how many bytes it wrote into the
   * chain's device-writable part. A chain whose layout breaks the device's protocol throws
   * VmmError (the transport then marks the device DEVICE_NEEDS_RESET).
   */
  handle(queue: number, chain: DescriptorChain, mem: GuestMemory): number;
  /**
   * For queues the device fills when it has something to give (a NIC's receive queue): whether it
   * has something now. While this says false, the transport leaves the driver's buffers in the
   * queue instead of handing them to handle(). Absent: every queue takes every chain.
   */
  hasWork?(queue: number): boolean;
  /** The driver reset the device (wrote 0 to device_status). */
  reset(): void;
}
