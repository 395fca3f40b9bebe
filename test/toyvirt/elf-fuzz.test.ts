/**
 * Fuzzes the ELF loader with seeded mutations of valid images: whatever the bytes, parseElf64
 * either returns an image that respects its promises or throws VmmError, nothing else.
 * TSVISOR_FUZZ_SEED replays a run; the seed is printed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseElf64, DEFAULT_ELF_LIMITS, type ElfImage } from '../../src/vmm/elf.js';
import { VmmError } from '../../src/api/errors.js';
import { GUEST_BUILD } from '../support.js';
import { sampleElf } from './elf-builder.js';

const ITERATIONS = 3000;

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const INTERESTING_U64 = [0n, 1n, 0x38n, 0x40n, 0xfffn, 0x1000n, 0x100000n, 0xfee00000n, 0xffffffffn,
  0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 0x1fffffffffffffn, 0x20000000000000n];

function mutate(base: Uint8Array, rand: () => number): Uint8Array {
  let bytes = new Uint8Array(base);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(rand() * 5);
    const at = Math.floor(rand() * bytes.length);
    const v = new DataView(bytes.buffer);
    if (kind === 0) bytes[at] = Math.floor(rand() * 256);
    else if (kind === 1) bytes[at] = bytes[at]! ^ (1 << Math.floor(rand() * 8));
    else if (kind === 2 && at + 8 <= bytes.length) {
      // Header and program-header fields sit at 8-byte-aligned offsets in the first bytes.
      const aligned = Math.min(at & ~7, bytes.length - 8);
      v.setBigUint64(aligned, INTERESTING_U64[Math.floor(rand() * INTERESTING_U64.length)]!, true);
    } else if (kind === 3) bytes = bytes.subarray(0, at);
    else if (kind === 4 && at + 2 <= bytes.length) v.setUint16(at, Math.floor(rand() * 65536), true);
  }
  return bytes;
}

function checkImage(img: ElfImage, file: Uint8Array): void {
  let total = 0;
  img.segments.forEach((s, i) => {
    assert.ok(s.memSize > 0 && s.fileBytes.length <= s.memSize);
    assert.ok(s.gpa + s.memSize <= DEFAULT_ELF_LIMITS.maxAddress);
    assert.ok(s.fileBytes.buffer === file.buffer, 'segment bytes alias the file, no copy');
    if (i > 0) assert.ok(s.gpa >= img.segments[i - 1]!.gpa + img.segments[i - 1]!.memSize, 'no overlap');
    total += s.memSize;
  });
  assert.ok(total <= DEFAULT_ELF_LIMITS.maxImageBytes);
  assert.ok(img.segments.some((s) => img.entry >= s.gpa && img.entry < s.gpa + s.memSize));
}

test('fuzz: mutated ELF images never escape anything but VmmError', () => {
  const seed = Number(process.env['TSVISOR_FUZZ_SEED'] ?? Date.now() % 2 ** 31);
  const rand = rng(seed);
  const kernel = join(GUEST_BUILD, 'smallkern');
  const bases = [sampleElf(), ...(existsSync(kernel) ? [new Uint8Array(readFileSync(kernel))] : [])];
  let accepted = 0, rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const file = mutate(bases[i % bases.length]!, rand);
    try {
      checkImage(parseElf64(file), file);
      accepted++;
    } catch (e) {
      if (e instanceof VmmError) { rejected++; continue; }
      assert.fail(`seed ${seed} (TSVISOR_FUZZ_SEED=${seed}), iteration ${i}: ${(e as Error).stack}`);
    }
  }
  // Both outcomes must occur, or the mutations are not reaching the interesting paths.
  assert.ok(accepted > 0 && rejected > 0, `seed ${seed}: accepted ${accepted}, rejected ${rejected}`);
});
