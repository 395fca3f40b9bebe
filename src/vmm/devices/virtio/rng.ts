/**
 * virtio-rng, the entropy device (virtio 5.4): one request queue whose device-writable buffers are
 * filled from the host CSPRNG (node:crypto randomFillSync). At most MAX_BYTES_PER_REQUEST bytes per
 * request, so a guest asking for gigabytes cannot hold the vCPU thread: the spec lets the device
 * return fewer bytes than the buffer holds, and the used length tells the driver how many.
 */
import { randomFillSync } from 'node:crypto';
import type { GuestMemory } from '../../bus/guest-memory.js';
import type { DescriptorChain } from './chain.js';
import { VIRTIO_ID } from './constants.js';
import type { VirtioDeviceModel } from './device-model.js';

export const MAX_BYTES_PER_REQUEST = 64 * 1024;

export class VirtioRng implements VirtioDeviceModel {
  readonly deviceId = VIRTIO_ID.ENTROPY;
  /** "Other" class: there is no PCI class for entropy sources (QEMU reports the same). */
  readonly pciClass = 0xff0000;
  readonly features = 0n;
  readonly queueSizes = [64];
  readonly configSize = 0;
  /** Random bytes handed to the guest so far. */
  bytesServed = 0;

  readConfig(_offset: number, data: Uint8Array): void {
    data.fill(0);
  }

  writeConfig(): void {}

  reset(): void {}

  handle(_queue: number, chain: DescriptorChain, mem: GuestMemory): number {
    const length = Math.min(chain.writableLength, MAX_BYTES_PER_REQUEST);
    chain.forEachView(mem, 'writable', 0, length, (view) => randomFillSync(view));
    this.bytesServed += length;
    return length;
  }
}
