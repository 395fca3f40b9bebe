/**
 * The ELF-64 object file format (v1.5) as both ELF readers use it: toyvirt's (elf.ts, segments at
 * p_vaddr) and the kernel loader's (loader/vmlinux.ts, segments at p_paddr). Field offsets as data,
 * the header checks for a little-endian x86-64 executable, and the checked 64-bit field read.
 * Each reader passes `bad`, which words its own errors.
 */
import { VmmError, hex } from '../api/errors.js';

/** Offsets of the ELF header fields we read. */
export const EHDR = {
  SIZE: 64, CLASS: 4, DATA: 5, VERSION: 6, TYPE: 16, MACHINE: 18, ENTRY: 24, PHOFF: 32,
  PHENTSIZE: 54, PHNUM: 56,
} as const;
/** Offsets of the program header fields we read. */
export const PHDR = { SIZE: 56, TYPE: 0, FLAGS: 4, OFFSET: 8, VADDR: 16, PADDR: 24, FILESZ: 32, MEMSZ: 40 } as const;
export const PT_LOAD = 1, PT_NOTE = 4;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS64 = 2, ELFDATA2LSB = 1, EV_CURRENT = 1, ET_EXEC = 2, EM_X86_64 = 62;

export type BadElf = (what: string) => VmmError;

export function isElf(file: Uint8Array): boolean {
  return file.length >= 4 && ELF_MAGIC.every((b, i) => file[i] === b);
}

/** Checks that file is a little-endian x86-64 ELF64 executable; returns a view of it. */
export function checkElf64Executable(file: Uint8Array, bad: BadElf): DataView {
  if (!isElf(file)) throw new VmmError('EINVAL', 'not an ELF file (no \\x7fELF magic)');
  if (file.length < EHDR.SIZE) throw bad(`is truncated: ${file.length} bytes, the header alone is ${EHDR.SIZE}`);
  const cls = file[EHDR.CLASS]!;
  if (cls !== ELFCLASS64) throw bad(`class ${cls} is not ELFCLASS64 (2)${cls === 1 ? ': a 32-bit ELF (ELFCLASS32); a 64-bit ELF is needed' : ''}`);
  if (file[EHDR.DATA] !== ELFDATA2LSB) throw bad(`data encoding ${file[EHDR.DATA]} is not little-endian (1)`);
  if (file[EHDR.VERSION] !== EV_CURRENT) throw bad(`ELF version ${file[EHDR.VERSION]} is not 1`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const type = view.getUint16(EHDR.TYPE, true);
  if (type !== ET_EXEC) throw bad(`e_type ${type} is not an executable (ET_EXEC = 2)`);
  const machine = view.getUint16(EHDR.MACHINE, true);
  if (machine !== EM_X86_64) throw bad(`e_machine ${machine} is not x86-64 (62)`);
  return view;
}

/** The header facts both readers start from, program header table bounds checked. */
export interface Elf64Layout { view: DataView; entry: number; phoff: number; phentsize: number; phnum: number }

/**
 * Checks the header (checkElf64Executable), then that the program header table has between 1 and
 * maxPhnum entries of at least PHDR.SIZE bytes, all inside the file.
 */
export function readElf64Layout(file: Uint8Array, bad: BadElf, maxPhnum: number): Elf64Layout {
  const view = checkElf64Executable(file, bad);
  const entry = u64Field(view, EHDR.ENTRY, 'e_entry', bad);
  const phoff = u64Field(view, EHDR.PHOFF, 'e_phoff', bad);
  const phentsize = view.getUint16(EHDR.PHENTSIZE, true);
  const phnum = view.getUint16(EHDR.PHNUM, true);
  if (phnum === 0) throw bad('has no program headers (e_phnum 0)');
  if (phnum > maxPhnum) throw bad(`e_phnum ${phnum} is not in 1..${maxPhnum}`);
  if (phentsize < PHDR.SIZE) throw bad(`e_phentsize ${phentsize} is smaller than ${PHDR.SIZE}`);
  if (phoff + phnum * phentsize > file.length) {
    throw bad(`program headers (e_phoff ${hex(phoff)}, ${phnum} x ${phentsize} bytes) run past the end of the ${hex(file.length)}-byte file`);
  }
  return { view, entry, phoff, phentsize, phnum };
}

/** A 64-bit field as a number; values past 2^53 are rejected rather than rounded. */
export function u64Field(view: DataView, at: number, name: string, bad: BadElf): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${name} ${hex(v)} is absurdly large`);
  return Number(v);
}

/** A segment's guest-physical span for messages. */
export function spanText(s: { gpa: number; memSize: number }): string {
  return `${hex(s.gpa)}..${hex(s.gpa + s.memSize)}`;
}
