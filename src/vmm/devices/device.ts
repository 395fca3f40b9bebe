/**
 * What a device is to the monitor: a plain object with read and write handlers over a range of
 * I/O ports or guest-physical bytes. A device knows nothing of vCPUs, exits or backends; the
 * bus (src/vmm/bus.ts) finds it and the monitor's exit loop calls the bus.
 */

/** A device on the I/O port bus. offset = port - base. */
export interface PortDevice {
  readonly name: string;
  readonly base: number;
  readonly count: number;
  /** Fill data (1, 2 or 4 bytes) with what the port returns. */
  read(offset: number, data: Uint8Array): void;
  /** data holds the bytes the guest wrote. */
  write(offset: number, data: Uint8Array): void;
}

/** A device mapped in guest-physical space. offset = gpa - base. */
export interface MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  read(offset: number, data: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
}
