/**
 * struct virtio_pci_common_cfg (virtio 4.1.4.3) over a VirtioCore. Reads have no side effects,
 * so they are served from an image of the whole structure (any width works); writes must use each
 * field's natural width (64-bit fields may also be written as two 32-bit halves), as the spec
 * requires of drivers, and a write that does not is ignored and reported to the caller.
 */
import { VIRTIO_MSI_NO_VECTOR } from './constants.js';
import type { SplitQueue } from './split-queue.js';
import type { VirtioCore } from './virtio-core.js';

/** Fields up to queue_device (0x38): what Linux's virtio_pci_modern requires at least. */
export const COMMON_CONFIG_SIZE = 0x38;

export const COMMON_CFG = {
  DEVICE_FEATURE_SELECT: 0x00, DEVICE_FEATURE: 0x04, DRIVER_FEATURE_SELECT: 0x08, DRIVER_FEATURE: 0x0c,
  CONFIG_MSIX_VECTOR: 0x10, NUM_QUEUES: 0x12, DEVICE_STATUS: 0x14, CONFIG_GENERATION: 0x15,
  QUEUE_SELECT: 0x16, QUEUE_SIZE: 0x18, QUEUE_MSIX_VECTOR: 0x1a, QUEUE_ENABLE: 0x1c, QUEUE_NOTIFY_OFF: 0x1e,
  QUEUE_DESC: 0x20, QUEUE_DRIVER: 0x28, QUEUE_DEVICE: 0x30,
} as const;

export interface CommonConfigState {
  core: VirtioCore;
  deviceFeatureSelect: number;
  driverFeatureSelect: number;
  queueSelect: number;
  /** MSI-X vectors the function has (a vector number at or past it is refused). */
  vectors: number;
}

function selected(s: CommonConfigState): SplitQueue | undefined {
  return s.core.queues[s.queueSelect];
}

function featureHalf(features: bigint, select: number): number {
  return select > 1 ? 0 : Number((features >> BigInt(32 * select)) & 0xffffffffn);
}

export function commonConfigImage(s: CommonConfigState): Uint8Array {
  const img = new Uint8Array(COMMON_CONFIG_SIZE);
  const v = new DataView(img.buffer);
  const c = s.core, q = selected(s), C = COMMON_CFG;
  v.setUint32(C.DEVICE_FEATURE_SELECT, s.deviceFeatureSelect, true);
  v.setUint32(C.DEVICE_FEATURE, featureHalf(c.offered, s.deviceFeatureSelect), true);
  v.setUint32(C.DRIVER_FEATURE_SELECT, s.driverFeatureSelect, true);
  v.setUint32(C.DRIVER_FEATURE, featureHalf(c.driverFeatures, s.driverFeatureSelect), true);
  v.setUint16(C.CONFIG_MSIX_VECTOR, c.configVector, true);
  v.setUint16(C.NUM_QUEUES, c.queues.length, true);
  v.setUint8(C.DEVICE_STATUS, c.status);
  v.setUint8(C.CONFIG_GENERATION, c.configGeneration);
  v.setUint16(C.QUEUE_SELECT, s.queueSelect, true);
  // A queue_select past the last queue reads queue_size 0: that is how drivers count queues.
  if (q) {
    v.setUint16(C.QUEUE_SIZE, q.size, true);
    v.setUint16(C.QUEUE_MSIX_VECTOR, q.msixVector, true);
    v.setUint16(C.QUEUE_ENABLE, q.enabled ? 1 : 0, true);
    v.setUint16(C.QUEUE_NOTIFY_OFF, q.index, true);
    [C.QUEUE_DESC, C.QUEUE_DRIVER, C.QUEUE_DEVICE].forEach((at, i) => {
      v.setUint32(at, q.addressWords[2 * i]!, true);
      v.setUint32(at + 4, q.addressWords[2 * i + 1]!, true);
    });
  }
  return img;
}

/** A vector the driver may assign, or NO_VECTOR, which it reads back to learn of the refusal. */
function vector(s: CommonConfigState, v: number): number {
  return v < s.vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

/** Applies a driver write; returns false when it matched no field at its natural width. */
export function writeCommonConfig(s: CommonConfigState, offset: number, data: Uint8Array): boolean {
  const size = data.length;
  // 8-byte writes only make sense for the 64-bit address fields, which take them as two dwords.
  let value = 0;
  for (let i = Math.min(size, 4) - 1; i >= 0; i--) value = value * 256 + data[i]!;
  const c = s.core, q = selected(s), C = COMMON_CFG;
  const is = (field: number, width: number) => offset === field && size === width;
  if (is(C.DEVICE_FEATURE_SELECT, 4)) s.deviceFeatureSelect = value;
  else if (is(C.DRIVER_FEATURE_SELECT, 4)) s.driverFeatureSelect = value;
  else if (is(C.DRIVER_FEATURE, 4)) c.writeDriverFeatures(s.driverFeatureSelect, value);
  else if (is(C.CONFIG_MSIX_VECTOR, 2)) c.configVector = vector(s, value);
  else if (is(C.DEVICE_STATUS, 1)) c.writeStatus(value);
  else if (is(C.QUEUE_SELECT, 2)) s.queueSelect = value;
  else if (offset >= C.QUEUE_SIZE && offset < COMMON_CONFIG_SIZE) return q ? writeQueueField(s, q, offset, data, value) : true;
  else return offset === C.DEVICE_FEATURE || offset === C.NUM_QUEUES || offset === C.CONFIG_GENERATION; // read-only fields
  return true;
}

function writeQueueField(s: CommonConfigState, q: SplitQueue, offset: number, data: Uint8Array, value: number): boolean {
  const C = COMMON_CFG, size = data.length;
  if (offset === C.QUEUE_MSIX_VECTOR && size === 2) {
    q.msixVector = vector(s, value);
    return true;
  }
  if (offset === C.QUEUE_ENABLE && size === 2) {
    // Only 1 means anything: a driver disables a queue by resetting the device (4.1.4.3.2).
    if (value === 1) s.core.enableQueue(q);
    return true;
  }
  if (offset === C.QUEUE_NOTIFY_OFF && size === 2) return true; // read-only
  // The ring layout is fixed once the queue is live.
  if (offset === C.QUEUE_SIZE && size === 2) {
    if (!q.enabled) q.size = value;
    return true;
  }
  // The descriptor table, driver ring and device ring addresses: dword halves, or one qword.
  const word = offset >= C.QUEUE_DESC ? (offset - C.QUEUE_DESC) / 4 : -1;
  if (Number.isInteger(word) && word >= 0 && word < 6 && (size === 4 || (size === 8 && word % 2 === 0))) {
    if (!q.enabled) {
      for (let k = 0; k < size / 4; k++) {
        q.addressWords[word + k] = (data[4 * k]! | (data[4 * k + 1]! << 8) | (data[4 * k + 2]! << 16) | (data[4 * k + 3]! << 24)) >>> 0;
      }
    }
    return true;
  }
  return false;
}
