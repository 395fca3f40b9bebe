/** Numbers from the virtio 1.x specification (OASIS virtio v1.1/1.2) this transport and its devices use. */

/** device_status bits (2.1). */
export const VIRTIO_STATUS = {
  ACKNOWLEDGE: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, DEVICE_NEEDS_RESET: 0x40, FAILED: 0x80,
} as const;

/** Reserved (transport) feature bit numbers (6). */
export const VIRTIO_F = { INDIRECT_DESC: 28, EVENT_IDX: 29, VERSION_1: 32 } as const;

export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** Split virtqueue descriptor flags and ring flags (2.7). */
export const VIRTQ_DESC_F = { NEXT: 1, WRITE: 2, INDIRECT: 4 } as const;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_DESC_SIZE = 16;
/** The largest split queue (2.7: Queue Size is a power of 2, at most 32768). */
export const VIRTQ_MAX_SIZE = 32768;
/** The most descriptors an indirect table may hold here (QEMU's VIRTQUEUE_MAX_SIZE bound). */
export const VIRTQ_MAX_INDIRECT = 1024;

/** virtio_pci_cap.cfg_type (4.1.4). */
export const VIRTIO_PCI_CAP = { COMMON: 1, NOTIFY: 2, ISR: 3, DEVICE: 4, PCI_CFG: 5 } as const;
export const VIRTIO_MSI_NO_VECTOR = 0xffff;
/** ISR status bits (4.1.4.5). */
export const VIRTIO_ISR = { QUEUE: 1, CONFIG: 2 } as const;

/** PCI identity of modern virtio devices (4.1.2): device ID 0x1040 + virtio device ID. */
export const VIRTIO_PCI_VENDOR = 0x1af4;
export const VIRTIO_PCI_MODERN_DEVICE_BASE = 0x1040;
/** Virtio device IDs (5). */
export const VIRTIO_ID = { NET: 1, BLOCK: 2, ENTROPY: 4, VSOCK: 19 } as const;
