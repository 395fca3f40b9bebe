/**
 * The PVH start of day (xen/include/public/arch-x86/hvm/start_info.h): struct hvm_start_info
 * (version 1, so the kernel takes the memory map from it instead of asking Xen), the module
 * list holding the initrd, the memory map, and the command line, laid out in one block.
 */
import type { E820Entry } from './memory-map.js';

export const HVM_START_MAGIC = 0x336ec578;
const START_INFO_SIZE = 56, MODLIST_ENTRY_SIZE = 32, MEMMAP_ENTRY_SIZE = 24;
const MODLIST_AT = 0x40, MEMMAP_AT = 0x80;

export interface PvhInput {
  /** Guest-physical address of the block. */
  gpa: number;
  cmdline: Uint8Array; // NUL-terminated
  initrd?: { gpa: number; size: number };
  e820: readonly E820Entry[];
  acpiRsdpGpa?: number;
}

export interface PvhBlock {
  bytes: Uint8Array;
  cmdlineGpa: number;
}

export function buildPvhStartInfo(input: PvhInput): PvhBlock {
  const cmdlineAt = MEMMAP_AT + input.e820.length * MEMMAP_ENTRY_SIZE;
  const bytes = new Uint8Array(cmdlineAt + input.cmdline.length);
  const v = new DataView(bytes.buffer);
  const u64 = (at: number, value: number): void => v.setBigUint64(at, BigInt(value), true);
  v.setUint32(0, HVM_START_MAGIC, true);
  v.setUint32(4, 1, true); // version 1: memmap fields present
  v.setUint32(8, 0, true); // flags
  v.setUint32(12, input.initrd ? 1 : 0, true);
  u64(16, input.initrd ? input.gpa + MODLIST_AT : 0);
  u64(24, input.gpa + cmdlineAt);
  u64(32, input.acpiRsdpGpa ?? 0);
  u64(40, input.gpa + MEMMAP_AT);
  v.setUint32(48, input.e820.length, true);
  if (input.initrd) {
    u64(MODLIST_AT, input.initrd.gpa);
    u64(MODLIST_AT + 8, input.initrd.size);
  }
  input.e820.forEach((e, i) => {
    const at = MEMMAP_AT + i * MEMMAP_ENTRY_SIZE;
    u64(at, e.addr);
    u64(at + 8, e.size);
    v.setUint32(at + 16, e.type, true);
  });
  bytes.set(input.cmdline, cmdlineAt);
  return { bytes, cmdlineGpa: input.gpa + cmdlineAt };
}

export const PVH_LAYOUT = { START_INFO_SIZE, MODLIST_AT, MEMMAP_AT, MODLIST_ENTRY_SIZE, MEMMAP_ENTRY_SIZE } as const;
