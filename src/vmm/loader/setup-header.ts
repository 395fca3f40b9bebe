/**
 * The x86 Linux setup header (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header"):
 * read from a bzImage and validated before anything in it is trusted. Offsets are those of the
 * file, which are also those of struct boot_params (the header sits at 0x1f1 in both).
 */
import { VmmError, hex } from '../../api/errors.js';

/** [offset, size in bytes] of each header field we read or write. */
export const HDR = {
  setup_sects: [0x1f1, 1], root_flags: [0x1f2, 2], syssize: [0x1f4, 4], vid_mode: [0x1fa, 2],
  boot_flag: [0x1fe, 2], jump: [0x200, 2], header: [0x202, 4], version: [0x206, 2],
  type_of_loader: [0x210, 1], loadflags: [0x211, 1], code32_start: [0x214, 4],
  ramdisk_image: [0x218, 4], ramdisk_size: [0x21c, 4], heap_end_ptr: [0x224, 2],
  ext_loader_ver: [0x226, 1], ext_loader_type: [0x227, 1], cmd_line_ptr: [0x228, 4],
  initrd_addr_max: [0x22c, 4], kernel_alignment: [0x230, 4], relocatable_kernel: [0x234, 1],
  min_alignment: [0x235, 1], xloadflags: [0x236, 2], cmdline_size: [0x238, 4],
  hardware_subarch: [0x23c, 4], payload_offset: [0x248, 4], payload_length: [0x24c, 4],
  setup_data: [0x250, 8], pref_address: [0x258, 8], init_size: [0x260, 4],
} as const satisfies Record<string, readonly [number, number]>;

export type HdrField = keyof typeof HDR;

export const BOOT_FLAG = 0xaa55;
export const HDRS_MAGIC = 0x53726448; // "HdrS"
/** The 64-bit entry (startup_64) and xloadflags exist from protocol 2.12 on. */
export const MIN_VERSION = 0x020c;
/** The setup header starts here in the file and in boot_params. */
export const SETUP_HEADER_START = 0x1f1;
/** boot_params has room for the header up to here (edd_mbr_sig_buffer follows at 0x290). */
export const SETUP_HEADER_LIMIT = 0x290;

export const LOADFLAGS = { LOADED_HIGH: 1 << 0, KASLR_FLAG: 1 << 1, QUIET_FLAG: 1 << 5, KEEP_SEGMENTS: 1 << 6, CAN_USE_HEAP: 1 << 7 } as const;
export const XLF = { KERNEL_64: 1 << 0, CAN_BE_LOADED_ABOVE_4G: 1 << 1 } as const;

export interface SetupHeader {
  version: number;
  /** Sectors of real-mode setup code after the boot sector (0 in the file means 4). */
  setupSects: number;
  loadflags: number;
  xloadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  cmdlineSize: number;
  payloadOffset: number;
  payloadLength: number;
  prefAddress: number;
  initSize: number;
  /** File offset one past the header's last byte: 0x202 + the byte at 0x201 (the jump's displacement). */
  headerEnd: number;
  /** Offset of the protected-mode kernel in the file: (setup_sects + 1) * 512. */
  kernelOffset: number;
}

export function readField(bytes: Uint8Array, field: HdrField): number {
  const [at, size] = HDR[field];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 1) return v.getUint8(at);
  if (size === 2) return v.getUint16(at, true);
  if (size === 4) return v.getUint32(at, true);
  const big = v.getBigUint64(at, true);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${field} ${hex(big)} is absurdly large`);
  return Number(big);
}

export function writeField(bytes: Uint8Array, field: HdrField, value: number): void {
  const [at, size] = HDR[field];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 1) v.setUint8(at, value);
  else if (size === 2) v.setUint16(at, value, true);
  else if (size === 4) v.setUint32(at, value, true);
  else v.setBigUint64(at, BigInt(value), true);
}

/** True when the file carries a boot sector signature and "HdrS": a bzImage rather than an ELF. */
export function looksLikeBzImage(file: Uint8Array): boolean {
  return file.length >= 0x206 && readField(file, 'boot_flag') === BOOT_FLAG && readField(file, 'header') === HDRS_MAGIC;
}

/** Parses and validates the header; every value used later for a size or address is checked here. */
export function parseSetupHeader(file: Uint8Array): SetupHeader {
  if (file.length < 0x208) throw bad(`is truncated: ${file.length} bytes, the setup header's version field ends at 0x208`);
  const bootFlag = readField(file, 'boot_flag');
  if (bootFlag !== BOOT_FLAG) throw bad(`boot_flag at 0x1fe is ${hex(bootFlag)}, not 0xaa55`);
  const magic = readField(file, 'header');
  if (magic !== HDRS_MAGIC) throw bad(`header magic at 0x202 is ${hex(magic)}, not "HdrS" (0x53726448): a pre-2.00 or non-Linux image`);
  const version = readField(file, 'version');
  const vs = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (version < MIN_VERSION) {
    throw bad(`boot protocol version ${vs} (${hex(version)}) is older than 2.12, the first with the 64-bit entry`);
  }
  const headerEnd = 0x202 + file[0x201]!;
  if (headerEnd > SETUP_HEADER_LIMIT) {
    throw bad(`setup header end ${hex(headerEnd)} (0x202 + byte 0x201) runs past boot_params' header area (${hex(SETUP_HEADER_LIMIT)})`);
  }
  if (headerEnd < HDR.init_size[0] + 4) {
    throw bad(`setup header end ${hex(headerEnd)} (0x202 + byte 0x201) is before init_size at 0x260, which protocol ${vs} has`);
  }
  if (file.length < headerEnd) throw bad(`is truncated: ${file.length} bytes, the setup header ends at ${hex(headerEnd)}`);

  const setupSects = readField(file, 'setup_sects') || 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= file.length) {
    throw bad(`setup_sects ${setupSects} puts the protected-mode kernel at ${hex(kernelOffset)}, past the end of the ${hex(file.length)}-byte file`);
  }
  const loadflags = readField(file, 'loadflags');
  if (!(loadflags & LOADFLAGS.LOADED_HIGH)) throw bad('loadflags lacks LOADED_HIGH: a zImage (loaded at 0x10000) is not supported');
  const xloadflags = readField(file, 'xloadflags');
  const kernelAlignment = readField(file, 'kernel_alignment');
  if (kernelAlignment === 0 || (kernelAlignment & (kernelAlignment - 1)) !== 0 || kernelAlignment < 0x1000) {
    throw bad(`kernel_alignment ${hex(kernelAlignment)} is not a power of two of at least 4 KiB`);
  }
  const prefAddress = readField(file, 'pref_address');
  if (prefAddress % kernelAlignment !== 0) throw bad(`pref_address ${hex(prefAddress)} is not a multiple of kernel_alignment ${hex(kernelAlignment)}`);
  const initSize = readField(file, 'init_size');
  const pmSize = file.length - kernelOffset;
  if (initSize < pmSize) throw bad(`init_size ${hex(initSize)} is smaller than the ${hex(pmSize)}-byte protected-mode kernel`);
  const payloadOffset = readField(file, 'payload_offset');
  const payloadLength = readField(file, 'payload_length');
  if (payloadLength === 0 || payloadOffset + payloadLength > pmSize) {
    throw bad(`payload (payload_offset ${hex(payloadOffset)}, payload_length ${hex(payloadLength)}) is empty or runs past the ${hex(pmSize)}-byte protected-mode kernel`);
  }
  const cmdlineSize = readField(file, 'cmdline_size');
  if (cmdlineSize === 0) throw bad('cmdline_size is 0');
  return {
    version, setupSects, loadflags, xloadflags, kernelAlignment, prefAddress, initSize, payloadOffset,
    payloadLength, cmdlineSize, headerEnd, kernelOffset,
    code32Start: readField(file, 'code32_start'),
    initrdAddrMax: readField(file, 'initrd_addr_max'),
    relocatable: readField(file, 'relocatable_kernel') !== 0,
  };
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `bzImage ${what}`);
}
