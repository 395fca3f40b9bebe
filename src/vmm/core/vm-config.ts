/** What `tsvisor run` is asked to build: the parsed command line, independent of the CLI library. */
import type { BackendChoice } from '../../api/types.js';

export interface DiskConfig {
  path: string;
  readOnly: boolean;
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
}

/** Kernel command line options every tsvisor guest gets unless the user's own say otherwise. */
export const DEFAULT_CMDLINE = 'console=ttyS0';
