/**
 * The ELF vmlinux, as the kernel build leaves it (and as a bzImage payload decompresses to):
 * an ELF64 x86-64 executable whose PT_LOAD segments are linked at virtual addresses in the
 * kernel map (0xffffffff8...) but carry their load address in p_paddr, with e_entry the physical
 * address of startup_64. The toyvirt loader (../elf.ts) places segments at p_vaddr, which is
 * wrong here (the per-CPU segment even has p_vaddr 0), so this reader uses p_paddr.
 *
 * It also reads the PVH entry point from the ELF notes: a note named "Xen" of type
 * XEN_ELFNOTE_PHYS32_ENTRY (18) whose descriptor is the 32-bit physical entry address.
 * Trailing bytes after the ELF are allowed (a bzImage payload appends the relocation table).
 */
import { VmmError, hex } from '../../api/errors.js';
import { PHDR, PT_LOAD, PT_NOTE, isElf, readElf64Layout, spanText, u64Field } from '../elf64.js';

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
/** More program headers than any kernel has; bounds the work a corrupt e_phnum can cause. */
const MAX_PHNUM = 256;

export interface KernelSegment {
  /** Guest-physical load address (p_paddr). */
  gpa: number;
  /** p_filesz bytes of the file (a view, not a copy). */
  bytes: Uint8Array;
  /** p_memsz: the segment occupies [gpa, gpa + memSize); past bytes.length it is zero. */
  memSize: number;
}

export interface Vmlinux {
  /** e_entry: startup_64's physical address in a vmlinux. */
  entry: number;
  segments: KernelSegment[];
  /** [start, end) covered by the segments. */
  start: number;
  end: number;
  /** The 32-bit PVH entry from the XEN_ELFNOTE_PHYS32_ENTRY note, when the kernel has one. */
  pvhEntry?: number;
  /** One past the last byte the ELF structures describe (headers, segment contents). */
  extent: number;
}

export interface VmlinuxLimits {
  /** Segments must end at or below this guest-physical address. */
  maxAddress: number;
  /** The segments' memory sizes together may not exceed this. */
  maxImageBytes: number;
}

export const DEFAULT_VMLINUX_LIMITS: VmlinuxLimits = { maxAddress: 2 ** 40, maxImageBytes: 1024 * 2 ** 20 };

export { isElf };

export function parseVmlinux(file: Uint8Array, limits: VmlinuxLimits = DEFAULT_VMLINUX_LIMITS): Vmlinux {
  const { view, entry, phoff, phentsize, phnum } = readElf64Layout(file, bad, MAX_PHNUM);
  let extent = phoff + phnum * phentsize;

  const segments: KernelSegment[] = [];
  let total = 0;
  let pvhEntry: number | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = view.getUint32(ph + PHDR.TYPE, true);
    if (type !== PT_LOAD && type !== PT_NOTE) continue;
    const offset = u64(view, ph + PHDR.OFFSET, `segment ${i} p_offset`);
    const fileSize = u64(view, ph + PHDR.FILESZ, `segment ${i} p_filesz`);
    if (offset + fileSize > file.length) {
      throw bad(`is truncated: segment ${i} needs file bytes ${hex(offset)}..${hex(offset + fileSize)}, the file has ${hex(file.length)}`);
    }
    extent = Math.max(extent, offset + fileSize);
    const bytes = file.subarray(offset, offset + fileSize);
    if (type === PT_NOTE) {
      const found = findPvhEntry(bytes, i);
      if (found !== undefined) pvhEntry = found;
      continue;
    }
    const gpa = u64(view, ph + PHDR.PADDR, `segment ${i} p_paddr`);
    const memSize = u64(view, ph + PHDR.MEMSZ, `segment ${i} p_memsz`);
    if (fileSize > memSize) throw bad(`segment ${i}: p_filesz ${hex(fileSize)} exceeds p_memsz ${hex(memSize)}`);
    if (memSize === 0) continue;
    total += memSize;
    if (total > limits.maxImageBytes) throw bad(`segments total ${hex(total)} bytes by segment ${i}, over the ${hex(limits.maxImageBytes)}-byte limit`);
    if (gpa + memSize > limits.maxAddress) {
      throw bad(`segment ${i} at p_paddr ${hex(gpa)}+${hex(memSize)} ends above ${hex(limits.maxAddress)}`);
    }
    segments.push({ gpa, bytes, memSize });
  }
  if (segments.length === 0) throw bad('has no PT_LOAD segment with contents');
  segments.sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!, cur = segments[i]!;
    if (cur.gpa < prev.gpa + prev.memSize) throw bad(`segments overlap: ${spanText(prev)} and ${spanText(cur)}`);
  }
  const inside = (a: number): boolean => segments.some((s) => a >= s.gpa && a < s.gpa + s.memSize);
  if (!inside(entry)) throw bad(`entry point ${hex(entry)} is outside every loaded segment (${segments.map(spanText).join(', ')})`);
  if (pvhEntry !== undefined && !inside(pvhEntry)) throw bad(`PVH entry ${hex(pvhEntry)} (XEN_ELFNOTE_PHYS32_ENTRY) is outside every loaded segment`);
  const last = segments[segments.length - 1]!;
  return { entry, segments, start: segments[0]!.gpa, end: last.gpa + last.memSize, pvhEntry, extent };
}

/**
 * Walks the notes of one PT_NOTE segment (Elf64_Nhdr: namesz, descsz, type, each 4 bytes; name and
 * descriptor padded to 4) and returns the PVH entry if a "Xen" PHYS32_ENTRY note is there.
 */
function findPvhEntry(notes: Uint8Array, seg: number): number | undefined {
  const view = new DataView(notes.buffer, notes.byteOffset, notes.byteLength);
  let at = 0, found: number | undefined;
  while (at + 12 <= notes.length) {
    const namesz = view.getUint32(at, true), descsz = view.getUint32(at + 4, true), type = view.getUint32(at + 8, true);
    const nameAt = at + 12, descAt = nameAt + align4(namesz), next = descAt + align4(descsz);
    if (next > notes.length) throw bad(`note at offset ${hex(at)} of segment ${seg} (namesz ${namesz}, descsz ${descsz}) runs past the segment`);
    if (type === XEN_ELFNOTE_PHYS32_ENTRY && isXenName(notes.subarray(nameAt, nameAt + namesz))) {
      // Linux emits a 4-byte descriptor; Xen's own readers accept 4 or 8 bytes.
      if (descsz === 4) found = view.getUint32(descAt, true);
      else if (descsz === 8) found = u64(view, descAt, 'PVH entry note');
      else throw bad(`XEN_ELFNOTE_PHYS32_ENTRY note has a ${descsz}-byte descriptor, expected 4 or 8`);
      if (found >= 2 ** 32) throw bad(`PVH entry ${hex(found)} is not a 32-bit physical address`);
    }
    at = next;
  }
  return found;
}

/** "Xen" with or without its terminating NUL. */
function isXenName(name: Uint8Array): boolean {
  return (name.length === 3 || (name.length === 4 && name[3] === 0)) && name[0] === 0x58 && name[1] === 0x65 && name[2] === 0x6e;
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function u64(view: DataView, at: number, name: string): number {
  return u64Field(view, at, name, bad);
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `vmlinux ELF ${what}`);
}
