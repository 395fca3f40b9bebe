/**
 * struct boot_params, the "zero page" (Documentation/arch/x86/zero-page.rst, boot.rst): a zeroed
 * 4 KiB page, the kernel's setup header copied in at 0x1f1 as the protocol says (0x1f1 up to
 * 0x202 + the byte at 0x201), then the fields a boot loader must fill.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { E820Entry } from './memory-map.js';
import { HDR, HDRS_MAGIC, BOOT_FLAG, LOADFLAGS, XLF, SETUP_HEADER_START, writeField } from './setup-header.js';

export const BOOT_PARAMS_SIZE = 0x1000;
/** Offsets in boot_params outside the setup header. */
export const BP = {
  acpi_rsdp_addr: 0x070, ext_ramdisk_image: 0x0c0, ext_ramdisk_size: 0x0c4, ext_cmd_line_ptr: 0x0c8,
  e820_entries: 0x1e8, sentinel: 0x1ef, e820_table: 0x2d0,
} as const;
export const E820_MAX_ENTRIES_ZEROPAGE = 128;
const E820_ENTRY_SIZE = 20;
/** "Undefined" boot loader id: we have no assigned one (boot.rst, type_of_loader). */
export const TYPE_OF_LOADER_UNDEFINED = 0xff;
/** acpi_rsdp_addr is read only from protocol 2.14 on. */
const VERSION_WITH_RSDP = 0x020e;

/**
 * The setup header a bare ELF vmlinux lacks, as the fields a 2.15 bzImage of today's kernels
 * would carry: what the kernel reads of it is the version (gating acpi_rsdp_addr), cmdline and
 * ramdisk pointers, and loadflags.
 */
export function synthesizedSetupHeader(): Uint8Array {
  const hdr = new Uint8Array(0x26c);
  hdr[0x201] = 0x26c - 0x202;
  writeField(hdr, 'boot_flag', BOOT_FLAG);
  writeField(hdr, 'header', HDRS_MAGIC);
  writeField(hdr, 'version', 0x020f);
  writeField(hdr, 'loadflags', LOADFLAGS.LOADED_HIGH);
  writeField(hdr, 'initrd_addr_max', 0x7fffffff);
  writeField(hdr, 'kernel_alignment', 0x200000);
  writeField(hdr, 'xloadflags', XLF.KERNEL_64);
  writeField(hdr, 'cmdline_size', ELF_CMDLINE_MAX);
  return hdr;
}

/** COMMAND_LINE_SIZE on x86 is 2048 including the NUL; a kernel without a header says no other. */
export const ELF_CMDLINE_MAX = 2047;

export interface BootParamsInput {
  /** The kernel file (or a synthesized header) from which 0x1f1..headerEnd is copied. */
  headerSource: Uint8Array;
  headerEnd: number;
  cmdlineGpa: number;
  initrd?: { gpa: number; size: number };
  e820: readonly E820Entry[];
  acpiRsdpGpa?: number;
  /** For guest decompression: where the protected-mode kernel was loaded (code32_start). */
  code32Start?: number;
}

export function buildBootParams(input: BootParamsInput): Uint8Array {
  const bp = new Uint8Array(BOOT_PARAMS_SIZE);
  const v = new DataView(bp.buffer);
  bp.set(input.headerSource.subarray(SETUP_HEADER_START, input.headerEnd), SETUP_HEADER_START);
  writeField(bp, 'type_of_loader', TYPE_OF_LOADER_UNDEFINED);
  // Nothing of the 16-bit setup code runs on the 64-bit entry, so it has no heap to be given
  // (CAN_USE_HEAP, heap_end_ptr are for the real-mode entry); QUIET is left to the command line.
  const loadflags = bp[HDR.loadflags[0]]! & ~(LOADFLAGS.CAN_USE_HEAP | LOADFLAGS.QUIET_FLAG | LOADFLAGS.KEEP_SEGMENTS);
  writeField(bp, 'loadflags', loadflags);
  writeField(bp, 'heap_end_ptr', 0);
  writeField(bp, 'setup_data', 0); // no setup_data chain is passed
  split64(v, HDR.cmd_line_ptr[0], BP.ext_cmd_line_ptr, input.cmdlineGpa);
  if (input.initrd) {
    split64(v, HDR.ramdisk_image[0], BP.ext_ramdisk_image, input.initrd.gpa);
    split64(v, HDR.ramdisk_size[0], BP.ext_ramdisk_size, input.initrd.size);
  } else {
    writeField(bp, 'ramdisk_image', 0);
    writeField(bp, 'ramdisk_size', 0);
  }
  if (input.code32Start !== undefined) writeField(bp, 'code32_start', input.code32Start);
  if (input.acpiRsdpGpa !== undefined) {
    const version = v.getUint16(HDR.version[0], true);
    if (version < VERSION_WITH_RSDP) {
      throw new VmmError('EINVAL', `ACPI RSDP address given, but boot protocol ${hex(version)} has no acpi_rsdp_addr (2.14+)`);
    }
    v.setBigUint64(BP.acpi_rsdp_addr, BigInt(input.acpiRsdpGpa), true);
  }
  if (input.e820.length > E820_MAX_ENTRIES_ZEROPAGE) {
    throw new VmmError('E2BIG', `memory map has ${input.e820.length} e820 entries; boot_params holds ${E820_MAX_ENTRIES_ZEROPAGE}`);
  }
  bp[BP.e820_entries] = input.e820.length;
  input.e820.forEach((e, i) => {
    const at = BP.e820_table + i * E820_ENTRY_SIZE;
    v.setBigUint64(at, BigInt(e.addr), true);
    v.setBigUint64(at + 8, BigInt(e.size), true);
    v.setUint32(at + 16, e.type, true);
  });
  return bp;
}

/** A 64-bit value as a 32-bit header field plus its ext_* upper half in boot_params. */
function split64(v: DataView, lowAt: number, highAt: number, value: number): void {
  v.setUint32(lowAt, value % 2 ** 32, true);
  v.setUint32(highAt, Math.floor(value / 2 ** 32), true);
}
