/**
 * The type 0 configuration header (PCI Local Bus 3.0, chapter 6) as data: register offsets and
 * the bits of the command and status registers this bus implements.
 */
export const PCI_CFG = {
  VENDOR_ID: 0x00, DEVICE_ID: 0x02, COMMAND: 0x04, STATUS: 0x06, REVISION: 0x08, CLASS_PROG: 0x09,
  CACHE_LINE: 0x0c, LATENCY: 0x0d, HEADER_TYPE: 0x0e, BAR0: 0x10, SUBSYSTEM_VENDOR: 0x2c, SUBSYSTEM_ID: 0x2e,
  ROM: 0x30, CAPABILITIES: 0x34, INTERRUPT_LINE: 0x3c, INTERRUPT_PIN: 0x3d,
} as const;

/** Conventional configuration space, and PCI Express extended space (reachable through ECAM). */
export const PCI_CONFIG_SIZE = 256;
export const PCIE_CONFIG_SIZE = 4096;
/** Capabilities live after the header, dword aligned. */
export const PCI_CAP_START = 0x40;

export const PCI_COMMAND = {
  IO: 1 << 0, MEMORY: 1 << 1, BUS_MASTER: 1 << 2, PARITY: 1 << 6, SERR: 1 << 8, INTX_DISABLE: 1 << 10,
} as const;
/** What software may set in the command register of these functions (others read as 0). */
export const PCI_COMMAND_WRITABLE = PCI_COMMAND.IO | PCI_COMMAND.MEMORY | PCI_COMMAND.BUS_MASTER |
  PCI_COMMAND.PARITY | PCI_COMMAND.SERR | PCI_COMMAND.INTX_DISABLE;

export const PCI_STATUS = {
  INTERRUPT: 1 << 3, CAP_LIST: 1 << 4,
  /** The error bits: set by hardware, cleared by writing 1 (RW1C). */
  ERROR_BITS: (1 << 8) | (0x1f << 11),
} as const;

export const PCI_CAP_ID = { MSIX: 0x11, VENDOR: 0x09 } as const;

/** Header type 0 with the multi-function bit. */
export const PCI_HEADER_MULTIFUNCTION = 0x80;

/** BAR low bits (read-only type bits). */
export const PCI_BAR = {
  IO: 0x1, MEM_TYPE_64: 0x4, MEM_PREFETCH: 0x8,
  /** The smallest decodes the spec allows: 16 bytes of memory, 4 ports. */
  MIN_MEM_SIZE: 16, MIN_IO_SIZE: 4,
} as const;

/** INTx pins as the Interrupt Pin register holds them. */
export type PciInterruptPin = 1 | 2 | 3 | 4;
