/** What `tsvisor run` is asked to build: the parsed command line, independent of the CLI library. */
import type { BackendChoice } from '../../api/types.js';
import type { NicConfig } from './net-config.js';

export interface DiskConfig {
  path: string;
  readOnly: boolean;
}

export interface VsockConfig {
  cid: number;
  path: string;
}

export interface VmConfig {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  memBytes: number;
  cpus: number;
  backend: BackendChoice;
  disks: DiskConfig[];
  rng: boolean;
  /** virtio-net NICs, in PCI slot order (--net); absent: none. */
  nics?: NicConfig[];
  /** virtio-vsock with Firecracker's Unix-socket host side (--vsock CID,PATH). */
  vsock?: VsockConfig;
  /** How to enter the kernel: the 64-bit boot protocol (default) or its PVH entry point. */
  entry?: '64bit' | 'pvh';
}

/** The kernel command line when none is given: the serial console. */
export const DEFAULT_CMDLINE = 'console=ttyS0';

/**
 * The command line the kernel gets: the user's, plus panic=-1 unless it sets panic= itself, so that
 * a panicking guest resets at once (the monitor then reports the panic) instead of hanging.
 */
export function kernelCmdline(user: string | undefined): string {
  const base = user ?? DEFAULT_CMDLINE;
  return /(^|\s)panic=/.test(base) ? base : `${base} panic=-1`.trim();
}
