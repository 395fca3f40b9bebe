/**
 * What the loader hands the monitor: the bytes to copy into guest RAM, where everything went, and
 * how to enter the kernel. The loader never touches guest memory or a vCPU; the monitor copies the
 * segments (zero-filling each up to memSize), builds page tables/GDT as the entry mode requires,
 * sets the registers named in `entry`, and runs.
 */
import type { E820Entry, Range } from './memory-map.js';
import type { CodecName } from './payload.js';

export interface PlanSegment {
  gpa: number;
  /** Copied to [gpa, gpa + bytes.length). */
  bytes: Uint8Array;
  /** The segment occupies [gpa, gpa + memSize): bytes past bytes.length must be zero in the guest. */
  memSize: number;
  /** What it is, for logs and tests. */
  what: 'kernel' | 'boot_params' | 'cmdline' | 'initrd' | 'start_info';
}

/**
 * Linux 64-bit boot protocol (boot.rst, "64-bit Boot Protocol"), for the decompressor's
 * startup_64 and the vmlinux's own startup_64 alike (the latter is where the decompressor jumps
 * with the same state, and where Firecracker-style monitors enter an ELF): long mode with paging on, every
 * range in LoadPlan.identityMapped identity-mapped, a GDT whose selector 0x10 is a flat 64-bit
 * code segment (execute/read) and 0x18 a flat data segment (read/write), CS = 0x10,
 * DS = ES = SS = 0x18, interrupts off (RFLAGS.IF = 0), RSI = boot_params, RIP = rip.
 */
export interface Entry64 {
  mode: '64bit';
  rip: number;
  rsi: number;
}

/**
 * PVH (Xen's HVM direct boot, docs/misc/pvh.pandoc): 32-bit protected mode with paging off
 * (CR0.PE = 1, CR0.PG = 0, CR4 = 0), CS a flat 32-bit code segment (execute/read), DS/ES/SS flat
 * 32-bit data segments (read/write), TR a 32-bit TSS, RFLAGS.IF = 0 and RFLAGS.VM = 0,
 * EBX = the hvm_start_info address, EIP = rip. Selector values are free.
 */
export interface EntryPvh {
  mode: 'pvh';
  rip: number;
  rbx: number;
}

export type BootPath =
  /** bzImage whose payload this loader decompressed: the ELF vmlinux is loaded, no KASLR. */
  | 'bzimage-host-decompressed'
  /** bzImage loaded whole at its load address; the guest's decompressor runs (KASLR possible). */
  | 'bzimage-guest-decompresses'
  /** An ELF vmlinux loaded directly. */
  | 'elf';

export interface LoadPlan {
  path: BootPath;
  segments: PlanSegment[];
  entry: Entry64 | EntryPvh;
  /** Physical memory the kernel image claims (its segments, or the init_size window). */
  kernel: Range;
  /** boot_params ("zero page", 4 KiB), for the 64-bit entry. */
  bootParams?: Range;
  /** hvm_start_info and its tables, for the PVH entry. */
  startInfo?: Range;
  /** The NUL-terminated command line. */
  cmdline: Range;
  initrd?: Range;
  /** The memory map given to the kernel (in boot_params or the PVH memmap). */
  e820: E820Entry[];
  /** For the 64-bit entry: ranges the initial page tables must identity-map (boot.rst). Empty for PVH. */
  identityMapped: Range[];
  /** Set when a bzImage payload was decompressed here. */
  decompression?: { codec: CodecName; compressedBytes: number; decompressedBytes: number };
}
