import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf64, copyElfImage } from '../../src/vmm/elf.js';
import { VmmError } from '../../src/api/errors.js';
import { GUEST_BUILD } from '../support.js';
import { buildElf, sampleElf } from './elf-builder.js';

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => parseElf64(bytes), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && pattern.test(e.message));
}

test('parses PT_LOAD segments, sorted, with the entry point', () => {
  const img = parseElf64(sampleElf());
  assert.equal(img.entry, 0x100000);
  assert.deepEqual(img.segments.map((s) => [s.gpa, s.fileBytes.length, s.memSize, s.flags]),
    [[0x100000, 3, 3, 5], [0x101000, 4, 0x2000, 6]]);
  assert.equal(img.start, 0x100000);
  assert.equal(img.end, 0x103000);
});

test('copyElfImage places bytes at p_vaddr and zero-fills to p_memsz', () => {
  const img = parseElf64(sampleElf());
  const ram = new Uint8Array(0x4000).fill(0xaa);
  copyElfImage(img, ram, 0x100000);
  assert.deepEqual([...ram.subarray(0, 4)], [0x90, 0x90, 0xf4, 0xaa]);
  assert.deepEqual([...ram.subarray(0x1000, 0x1006)], [1, 2, 3, 4, 0, 0]);
  assert.equal(ram[0x2fff], 0);
  assert.equal(ram[0x3000], 0xaa);
  assert.throws(() => copyElfImage(img, new Uint8Array(0x1000), 0x100000),
    (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && /does not fit guest RAM 0x100000\+0x1000/.test(e.message));
});

test('ignores non-LOAD and empty segments', () => {
  const img = parseElf64(buildElf({
    entry: 0x2000,
    segments: [
      { vaddr: 0, bytes: new Uint8Array(8), type: 4 /* PT_NOTE */ },
      { vaddr: 0x5000, bytes: new Uint8Array(0) },
      { vaddr: 0x2000, bytes: new Uint8Array([0xf4]) },
    ],
  }));
  assert.deepEqual(img.segments.map((s) => s.gpa), [0x2000]);
});

test('rejects a non-ELF file, a truncated ELF and a 32-bit ELF with one clear message', () => {
  rejects(new TextEncoder().encode('#!/bin/sh\necho hello\n'), /not an ELF file/);
  rejects(new Uint8Array(0), /not an ELF file/);
  rejects(sampleElf().subarray(0, 40), /truncated: 40 bytes/);
  const full = sampleElf();
  rejects(full.subarray(0, full.length - 2), /truncated: segment 1 needs file bytes/);
  rejects(sampleElf().subarray(0, 100), /program headers .* run past the end/);
  rejects(buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(1) }], class: 1 }), /32-bit ELF/);
  rejects(buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(1) }], machine: 3 }), /e_machine 3/);
  rejects(buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(1) }], type: 3 }), /e_type 3/);
});

test('rejects overlapping, absurdly large and out-of-range segments', () => {
  const seg = (vaddr: number, memSize: number) => ({ vaddr, bytes: new Uint8Array(1), memSize });
  rejects(buildElf({ entry: 0x1000, segments: [seg(0x1000, 0x2000), seg(0x2fff, 1)] }), /segments overlap: 0x1000\.\.0x3000 and 0x2fff\.\.0x3000/);
  rejects(buildElf({ entry: 0x1000, segments: [seg(0x1000, 2 ** 40)] }), /p_memsz 0x10000000000 is over/);
  rejects(buildElf({ entry: 0x1000, segments: [seg(0x1000, 0x0fffffff), seg(0x20000000, 0x0fffffff)] }), /segments total/);
  rejects(buildElf({ entry: 0xfee00000, segments: [seg(0xfee00000, 0x1000)] }), /ends above the guest RAM limit/);
  rejects(buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(8), memSize: 4 }] }), /p_filesz 0x8 exceeds p_memsz 0x4/);
  const huge = sampleElf();
  new DataView(huge.buffer).setBigUint64(64 + 16, 0xffffffff_fffff000n, true);
  rejects(huge, /segment 0 p_vaddr 0xfffffffffffff000 is absurdly large/);
});

test('rejects an entry point outside the image and an image with nothing to load', () => {
  rejects(buildElf({ entry: 0x5000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(16) }] }), /entry point 0x5000 is outside every loaded segment \(0x1000\.\.0x1010\)/);
  rejects(buildElf({ entry: 0x1000, segments: [] }), /no program headers/);
  rejects(buildElf({ entry: 0x1000, segments: [{ vaddr: 0x1000, bytes: new Uint8Array(1), type: 6 }] }), /no PT_LOAD segment/);
});

test('loads the smallkern guest built from source', { skip: existsSync(join(GUEST_BUILD, 'smallkern')) ? false : 'guests/build/smallkern not built (make -C guests)' }, () => {
  const img = parseElf64(new Uint8Array(readFileSync(join(GUEST_BUILD, 'smallkern'))));
  assert.equal(img.entry, 0x100000);
  assert.ok(img.segments.some((s) => s.memSize > s.fileBytes.length), 'has a zero-filled (bss) part');
});
