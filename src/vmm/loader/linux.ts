/**
 * loadLinux: from a kernel file (bzImage or ELF vmlinux), an optional initrd, a command line and
 * the guest memory map to a LoadPlan. Pure: it reads its inputs and returns bytes and addresses;
 * the monitor copies, builds page tables and sets registers.
 *
 * Boot paths:
 * - bzImage, decompress 'host' (default): the payload is decompressed here to the ELF vmlinux,
 *   whose PT_LOAD segments are loaded at their physical addresses and entered at startup_64 with
 *   RSI = boot_params. The kernel's own decompressor never runs, so there is no KASLR
 *   relocation: the kernel runs where it was linked (pref_address, normally 16 MiB).
 * - bzImage, decompress 'guest': the whole protected-mode kernel is loaded at its runtime start
 *   address (boot.rst: pref_address for a relocatable kernel) and entered at load + 0x200, the
 *   decompressor's startup_64, which decompresses (and may KASLR-relocate) the kernel itself.
 *   'auto' is 'host', falling back to 'guest' when the payload uses something this loader does
 *   not decode (an xz filter other than x86 BCJ, an lzop filter, an LZO method other than LZO1X).
 * - ELF vmlinux: loaded the same way as a host-decompressed payload, with a synthesized setup header.
 * - entry 'pvh' (ELF, or a bzImage decompressed on the host): the XEN_ELFNOTE_PHYS32_ENTRY
 *   entry in 32-bit protected mode with EBX = hvm_start_info.
 */
import { VmmError, hex } from '../../api/errors.js';
import { buildBootParams, synthesizedSetupHeader, BOOT_PARAMS_SIZE, ELF_CMDLINE_MAX } from './boot-params.js';
import { buildE820, usableRam, inUsableRam, overlaps, describeRanges, MAX_GPA, type GuestMemoryMap, type Range } from './memory-map.js';
import { decompressPayload } from './payload.js';
import type { LoadPlan, PlanSegment, BootPath } from './plan.js';
import { placeHigh, PAGE } from './placement.js';
import { buildPvhStartInfo } from './pvh.js';
import { looksLikeBzImage, parseSetupHeader, XLF, type SetupHeader } from './setup-header.js';
import { isElf, parseVmlinux, type Vmlinux } from './vmlinux.js';

export type { LoadPlan, PlanSegment, Entry64, EntryPvh, BootPath } from './plan.js';
export type { GuestMemoryMap, MemoryRegion, MemoryType, E820Entry, Range } from './memory-map.js';

export interface LinuxLoadOptions {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  cmdline: string;
  memory: GuestMemoryMap;
  /** bzImage only: who decompresses the kernel. Default 'host'. */
  decompress?: 'host' | 'guest' | 'auto';
  /** Default '64bit'; 'pvh' needs a kernel with the PVH ELF note. */
  entry?: '64bit' | 'pvh';
  /**
   * RAM the loader may fill with boot_params and the command line (64-bit) or hvm_start_info,
   * its tables and the command line (PVH). Must be usable RAM below 4 GiB, clear of the kernel.
   * Default 0x20000 + 64 KiB.
   */
  bootData?: Range;
  /** Physical address of the ACPI RSDP, passed in boot_params (protocol 2.14+) or start_info. */
  acpiRsdpGpa?: number;
  /** Place the initrd at the top of all RAM, above 4 GiB if there is RAM there, when the kernel allows it (XLF_CAN_BE_LOADED_ABOVE_4G). */
  initrdAbove4G?: boolean;
  /** Cap on the decompressed kernel and on the ELF's total segment size. Default 512 MiB. */
  maxKernelBytes?: number;
}

export const DEFAULT_BOOT_DATA: Range = { start: 0x20000, end: 0x30000 };
const DEFAULT_MAX_KERNEL = 512 * 2 ** 20;
/** The 64-bit entry of a bzImage's protected-mode code is 0x200 past where it was loaded. */
const STARTUP_64_OFFSET = 0x200;
const FOUR_GIB = 2 ** 32;

/** What the kernel's header (real or synthesized) says that placement needs. */
interface KernelFacts {
  path: BootPath;
  segments: PlanSegment[];
  kernel: Range;
  /** Kept clear of the initrd and boot data: the kernel plus the window init_size asks for. */
  claimed: Range;
  headerSource: Uint8Array;
  headerEnd: number;
  cmdlineMax: number;
  initrdAddrMax: number;
  xloadflags: number;
  entry64: number;
  pvhEntry?: number;
  code32Start?: number;
  decompression?: LoadPlan['decompression'];
}

export function loadLinux(opts: LinuxLoadOptions): LoadPlan {
  if (!(opts.kernel instanceof Uint8Array) || opts.kernel.length === 0) throw new VmmError('EINVAL', 'kernel image is empty');
  const entryMode = opts.entry ?? '64bit';
  if (entryMode !== '64bit' && entryMode !== 'pvh') throw new VmmError('EINVAL', `entry mode ${String(entryMode)} is not '64bit' or 'pvh'`);
  const e820 = buildE820(opts.memory);
  const ram = usableRam(opts.memory);
  const maxKernel = opts.maxKernelBytes ?? DEFAULT_MAX_KERNEL;

  const facts = looksLikeBzImage(opts.kernel)
    ? bzImageFacts(opts, entryMode, maxKernel)
    : isElf(opts.kernel)
      ? elfFacts(parseVmlinux(opts.kernel, { maxAddress: MAX_GPA, maxImageBytes: maxKernel }), 'elf', undefined)
      : failKind(opts.kernel);
  for (const s of facts.segments) {
    if (!inUsableRam(ram, s.gpa, s.gpa + s.memSize)) {
      throw new VmmError('ENOMEM', `kernel needs ${hex(s.gpa)}..${hex(s.gpa + s.memSize)}, which is not usable guest RAM (usable: ${describeRanges(ram)})`);
    }
  }

  const cmdline = encodeCmdline(opts.cmdline, facts.cmdlineMax);
  const bootData = checkBootData(opts.bootData ?? DEFAULT_BOOT_DATA, ram, facts.claimed);
  const initrd = opts.initrd ? placeInitrd(opts, ram, facts, entryMode, bootData) : undefined;
  const segments = [...facts.segments];
  if (initrd) segments.push({ gpa: initrd.start, bytes: opts.initrd!, memSize: opts.initrd!.length, what: 'initrd' });
  const initrdArg = initrd && { gpa: initrd.start, size: initrd.end - initrd.start };
  const common = { path: facts.path, kernel: facts.kernel, e820, initrd, decompression: facts.decompression };

  if (entryMode === 'pvh') {
    if (facts.pvhEntry === undefined) {
      throw new VmmError('ENOTSUP', 'PVH entry requested, but the kernel has no XEN_ELFNOTE_PHYS32_ENTRY note (built without CONFIG_PVH)');
    }
    const block = buildPvhStartInfo({ gpa: bootData.start, cmdline, initrd: initrdArg, e820, acpiRsdpGpa: opts.acpiRsdpGpa });
    needRoom(bootData, block.bytes.length, 'hvm_start_info, its memory map and the command line');
    segments.push({ gpa: bootData.start, bytes: block.bytes, memSize: block.bytes.length, what: 'start_info' });
    return {
      ...common, segments, identityMapped: [],
      entry: { mode: 'pvh', rip: facts.pvhEntry, rbx: bootData.start },
      startInfo: { start: bootData.start, end: bootData.start + block.bytes.length },
      cmdline: { start: block.cmdlineGpa, end: block.cmdlineGpa + cmdline.length },
    };
  }

  const bpGpa = bootData.start, cmdlineGpa = bootData.start + BOOT_PARAMS_SIZE;
  needRoom(bootData, BOOT_PARAMS_SIZE + cmdline.length, 'boot_params and the command line');
  const bp = buildBootParams({
    headerSource: facts.headerSource, headerEnd: facts.headerEnd, cmdlineGpa, initrd: initrdArg, e820,
    acpiRsdpGpa: opts.acpiRsdpGpa, code32Start: facts.code32Start,
  });
  segments.push({ gpa: bpGpa, bytes: bp, memSize: BOOT_PARAMS_SIZE, what: 'boot_params' });
  segments.push({ gpa: cmdlineGpa, bytes: cmdline, memSize: cmdline.length, what: 'cmdline' });
  const bootParams = { start: bpGpa, end: bpGpa + BOOT_PARAMS_SIZE };
  const cmdlineRange = { start: cmdlineGpa, end: cmdlineGpa + cmdline.length };
  return {
    ...common, segments, bootParams, cmdline: cmdlineRange,
    entry: { mode: '64bit', rip: facts.entry64, rsi: bpGpa },
    identityMapped: [facts.claimed, bootParams, cmdlineRange],
  };
}

function bzImageFacts(opts: LinuxLoadOptions, entryMode: '64bit' | 'pvh', maxKernel: number): KernelFacts {
  const file = opts.kernel;
  const hdr = parseSetupHeader(file);
  const how = opts.decompress ?? 'host';
  if (how !== 'host' && how !== 'guest' && how !== 'auto') throw new VmmError('EINVAL', `decompress ${String(how)} is not 'host', 'guest' or 'auto'`);
  if (entryMode === '64bit' && !(hdr.xloadflags & XLF.KERNEL_64)) {
    throw new VmmError('EINVAL', `bzImage xloadflags ${hex(hdr.xloadflags)} lacks XLF_KERNEL_64: the kernel has no 64-bit entry`);
  }
  if (how === 'guest') {
    if (entryMode === 'pvh') throw new VmmError('EINVAL', 'PVH entry needs the ELF note of the decompressed kernel: use decompress "host"');
    return guestDecompressFacts(file, hdr);
  }
  const payload = file.subarray(hdr.kernelOffset + hdr.payloadOffset, hdr.kernelOffset + hdr.payloadOffset + hdr.payloadLength);
  let decompressed;
  try {
    decompressed = decompressPayload(payload, maxKernel);
  } catch (e) {
    if (how === 'auto' && entryMode === '64bit' && e instanceof VmmError && e.code === 'ENOTSUP') return guestDecompressFacts(file, hdr);
    throw e;
  }
  const vm = parseVmlinux(decompressed.bytes, { maxAddress: MAX_GPA, maxImageBytes: maxKernel });
  if (vm.start % hdr.kernelAlignment !== 0) {
    throw new VmmError('EINVAL', `decompressed kernel starts at ${hex(vm.start)}, not a multiple of kernel_alignment ${hex(hdr.kernelAlignment)}`);
  }
  return elfFacts(vm, 'bzimage-host-decompressed', hdr, file, {
    codec: decompressed.codec, compressedBytes: payload.length, decompressedBytes: decompressed.bytes.length,
  });
}

/** boot.rst: a relocatable kernel runs at pref_address (or above, aligned); others at pref_address. */
function guestDecompressFacts(file: Uint8Array, hdr: SetupHeader): KernelFacts {
  const load = hdr.prefAddress;
  const image = file.subarray(hdr.kernelOffset);
  const claimed = { start: load, end: load + Math.max(hdr.initSize, image.length) };
  return {
    path: 'bzimage-guest-decompresses', segments: [{ gpa: load, bytes: image, memSize: claimed.end - claimed.start, what: 'kernel' }],
    kernel: claimed, claimed, headerSource: file, headerEnd: hdr.headerEnd, cmdlineMax: hdr.cmdlineSize,
    initrdAddrMax: hdr.initrdAddrMax, xloadflags: hdr.xloadflags, entry64: load + STARTUP_64_OFFSET, code32Start: load,
  };
}

function elfFacts(vm: Vmlinux, path: BootPath, hdr: SetupHeader | undefined, file?: Uint8Array, decompression?: LoadPlan['decompression']): KernelFacts {
  const kernel = { start: vm.start, end: vm.end };
  const claimed = hdr ? { start: vm.start, end: Math.max(vm.end, vm.start + hdr.initSize) } : kernel;
  const synthesized = synthesizedSetupHeader();
  return {
    path, kernel, claimed, decompression,
    segments: vm.segments.map((s) => ({ gpa: s.gpa, bytes: s.bytes, memSize: s.memSize, what: 'kernel' as const })),
    headerSource: hdr && file ? file : synthesized,
    headerEnd: hdr ? hdr.headerEnd : synthesized.length,
    cmdlineMax: hdr ? hdr.cmdlineSize : ELF_CMDLINE_MAX,
    initrdAddrMax: hdr ? hdr.initrdAddrMax : 0x7fffffff,
    xloadflags: hdr ? hdr.xloadflags : XLF.KERNEL_64,
    entry64: vm.entry, pvhEntry: vm.pvhEntry,
  };
}

function failKind(file: Uint8Array): never {
  const head = [...file.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new VmmError('EINVAL', `kernel image is neither a bzImage (no 0xaa55 boot flag and "HdrS" at 0x1fe) nor an ELF (starts ${head})`);
}

function encodeCmdline(cmdline: string, max: number): Uint8Array {
  if (typeof cmdline !== 'string') throw new VmmError('EINVAL', 'command line must be a string');
  if (cmdline.includes('\0')) throw new VmmError('EINVAL', 'command line contains a NUL character');
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length > max) throw new VmmError('EINVAL', `command line is ${bytes.length} bytes; the kernel takes at most ${max} (cmdline_size)`);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function checkBootData(area: Range, ram: readonly Range[], claimed: Range): Range {
  if (!Number.isSafeInteger(area.start) || !Number.isSafeInteger(area.end) || area.start < 0 || area.end <= area.start || area.start % 16 !== 0) {
    throw new VmmError('EINVAL', `boot data area ${hex(area.start)}..${hex(area.end)} is not a non-empty 16-byte-aligned range`);
  }
  if (area.end > FOUR_GIB) throw new VmmError('EINVAL', `boot data area ${hex(area.start)}..${hex(area.end)} must lie below 4 GiB (32-bit pointers reach it)`);
  if (!inUsableRam(ram, area.start, area.end)) {
    throw new VmmError('EINVAL', `boot data area ${hex(area.start)}..${hex(area.end)} is not usable guest RAM (usable: ${describeRanges(ram)})`);
  }
  if (overlaps(area, claimed)) {
    throw new VmmError('EINVAL', `boot data area ${hex(area.start)}..${hex(area.end)} overlaps the kernel at ${hex(claimed.start)}..${hex(claimed.end)}`);
  }
  return area;
}

function needRoom(area: Range, bytes: number, what: string): void {
  if (bytes > area.end - area.start) {
    throw new VmmError('ENOMEM', `${what} take ${bytes} bytes; the boot data area ${hex(area.start)}..${hex(area.end)} has ${area.end - area.start}`);
  }
}

/**
 * The initrd goes as high as the kernel allows (below initrd_addr_max, as boot loaders do, so
 * the kernel's low memory stays free), page-aligned, clear of the kernel and the boot data.
 */
function placeInitrd(opts: LinuxLoadOptions, ram: readonly Range[], facts: KernelFacts, entryMode: '64bit' | 'pvh', bootData: Range): Range {
  const size = opts.initrd!.length;
  if (size === 0) throw new VmmError('EINVAL', 'initrd is empty');
  const taken = [facts.claimed, bootData];
  const above4g = entryMode === '64bit' && (facts.xloadflags & XLF.CAN_BE_LOADED_ABOVE_4G) !== 0;
  const lowCap = Math.min(facts.initrdAddrMax + 1, FOUR_GIB);
  let start = opts.initrdAbove4G && above4g ? placeHigh(ram, taken, size, PAGE, MAX_GPA) : undefined;
  start ??= placeHigh(ram, taken, size, PAGE, lowCap);
  if (start === undefined && above4g) start = placeHigh(ram, taken, size, PAGE, MAX_GPA);
  if (start === undefined) {
    throw new VmmError('ENOMEM', `no room for the ${hex(size)}-byte initrd below initrd_addr_max ${hex(facts.initrdAddrMax)} clear of the kernel ${hex(facts.claimed.start)}..${hex(facts.claimed.end)} (usable RAM: ${describeRanges(ram)})`);
  }
  return { start, end: start + size };
}
