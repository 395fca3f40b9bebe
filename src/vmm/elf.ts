/**
 * ELF64 executable loader for the monitor (toyvirt's elf_map): parses a little-endian x86-64
 * ET_EXEC image and returns its PT_LOAD segments, to be placed at p_vaddr taken as a
 * guest-physical address. Everything read from the file is checked before use: a bad image
 * raises one VmmError naming the bad field and value, never a RangeError or a huge allocation.
 */
import { VmmError, hex } from '../api/errors.js';
import { PHDR, PT_LOAD, readElf64Layout, spanText, u64Field } from './elf64.js';

export const PF_X = 1, PF_W = 2, PF_R = 4;

export interface ElfSegment {
  /** Guest-physical address of the first byte (p_vaddr). */
  gpa: number;
  /** The bytes from the file (p_filesz of them); the rest up to memSize is zero. */
  fileBytes: Uint8Array;
  memSize: number;
  /** PF_R | PF_W | PF_X. */
  flags: number;
}

export interface ElfImage {
  entry: number;
  /** PT_LOAD segments with memSize > 0, sorted by address, not overlapping. */
  segments: ElfSegment[];
  /** Lowest segment address and the end (exclusive) of the highest one. */
  start: number;
  end: number;
}

export interface ElfLimits {
  /** Segments must end at or below this guest-physical address. */
  maxAddress: number;
  /** Sum of the segments' memory sizes may not exceed this many bytes. */
  maxImageBytes: number;
}

/** Guest-physical space below the LAPIC page, and a RAM budget a toy monitor can afford. */
export const DEFAULT_ELF_LIMITS: ElfLimits = { maxAddress: 0xfee00000, maxImageBytes: 256 * 2 ** 20 };

export function parseElf64(file: Uint8Array, limits: ElfLimits = DEFAULT_ELF_LIMITS): ElfImage {
  // Every 16-bit e_phnum is allowed: the table must lie inside the file, which bounds the work.
  const { view, entry, phoff, phentsize, phnum } = readElf64Layout(file, bad, 0xffff);

  const segments: ElfSegment[] = [];
  let total = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph + PHDR.TYPE, true) !== PT_LOAD) continue;
    const seg = readLoadSegment(file, view, ph, i, limits);
    if (seg.memSize === 0) continue;
    total += seg.memSize;
    if (total > limits.maxImageBytes) {
      throw bad(`segments total ${hex(total)} bytes by segment ${i}, over the ${hex(limits.maxImageBytes)}-byte image limit`);
    }
    segments.push(seg);
  }
  if (segments.length === 0) throw bad('has no PT_LOAD segment with contents');
  segments.sort((a, b) => a.gpa - b.gpa);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!, cur = segments[i]!;
    if (cur.gpa < prev.gpa + prev.memSize) {
      throw bad(`segments overlap: ${spanText(prev)} and ${spanText(cur)}`);
    }
  }
  if (!segments.some((s) => entry >= s.gpa && entry < s.gpa + s.memSize)) {
    throw bad(`entry point ${hex(entry)} is outside every loaded segment (${segments.map(spanText).join(', ')})`);
  }
  const last = segments[segments.length - 1]!;
  return { entry, segments, start: segments[0]!.gpa, end: last.gpa + last.memSize };
}

/** Copies the segments into guest RAM that starts at ramGpa (zero-filling each to memSize). */
export function copyElfImage(image: ElfImage, ram: Uint8Array, ramGpa: number): void {
  for (const seg of image.segments) {
    const off = seg.gpa - ramGpa;
    if (off < 0 || off + seg.memSize > ram.length) {
      throw new VmmError('EINVAL', `ELF segment ${spanText(seg)} does not fit guest RAM ${hex(ramGpa)}+${hex(ram.length)}`);
    }
    ram.set(seg.fileBytes, off);
    ram.fill(0, off + seg.fileBytes.length, off + seg.memSize);
  }
}

function readLoadSegment(file: Uint8Array, view: DataView, ph: number, i: number, limits: ElfLimits): ElfSegment {
  const offset = u64(view, ph + PHDR.OFFSET, `segment ${i} p_offset`);
  const gpa = u64(view, ph + PHDR.VADDR, `segment ${i} p_vaddr`);
  const fileSize = u64(view, ph + PHDR.FILESZ, `segment ${i} p_filesz`);
  const memSize = u64(view, ph + PHDR.MEMSZ, `segment ${i} p_memsz`);
  if (fileSize > memSize) throw bad(`segment ${i}: p_filesz ${hex(fileSize)} exceeds p_memsz ${hex(memSize)}`);
  if (memSize > limits.maxImageBytes) {
    throw bad(`segment ${i}: p_memsz ${hex(memSize)} is over the ${hex(limits.maxImageBytes)}-byte image limit`);
  }
  if (gpa + memSize > limits.maxAddress) {
    throw bad(`segment ${i} at ${hex(gpa)}+${hex(memSize)} ends above the guest RAM limit ${hex(limits.maxAddress)}`);
  }
  if (offset + fileSize > file.length) {
    throw bad(`is truncated: segment ${i} needs file bytes ${hex(offset)}..${hex(offset + fileSize)}, the file has ${hex(file.length)}`);
  }
  return {
    gpa, memSize, flags: view.getUint32(ph + PHDR.FLAGS, true) & (PF_R | PF_W | PF_X),
    fileBytes: file.subarray(offset, offset + fileSize),
  };
}

/** A 64-bit field as a number; values past 2^53 are rejected rather than rounded. */
function u64(view: DataView, at: number, name: string): number {
  return u64Field(view, at, name, bad);
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `ELF image ${what}`);
}
