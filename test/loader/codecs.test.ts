/**
 * Each payload codec against the real compressor the kernel build uses (skipped visibly where
 * this machine lacks the tool), plus the hand-written LZ4 legacy decoder on crafted blocks.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { decompressLz4Legacy } from '../../src/vmm/loader/codecs/lz4-legacy.js';
import { loadLinux } from '../../src/vmm/loader/linux.js';
import { decompressPayload, detectCodec } from '../../src/vmm/loader/payload.js';
import { buildBzImage, compress, concat, kernelPayload, pattern, pcMemory, sampleVmlinux, type TestCodec } from './images.js';

const vmlinux = sampleVmlinux();
const big = concat([vmlinux, pattern(300_000, 5), new Uint8Array(200_000), pattern(100_000, 6)]);
const CODECS: TestCodec[] = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'];

for (const codec of CODECS) {
  const stream = compress(codec, vmlinux);
  test(`${codec}: a bzImage whose payload the kernel build would make boots from the decompressed vmlinux`, { skip: typeof stream === 'string' ? stream : false }, () => {
    const s = stream as Uint8Array;
    assert.equal(detectCodec(s), codec);
    const bz = buildBzImage({ payload: kernelPayload(codec, s, vmlinux.length) });
    const p = loadLinux({ kernel: bz, cmdline: '', memory: pcMemory(64 * 2 ** 20) });
    assert.deepEqual(p.decompression, { codec, compressedBytes: kernelPayload(codec, s, vmlinux.length).length, decompressedBytes: vmlinux.length });
    const text = p.segments.find((x) => x.gpa === 0x1000000)!;
    assert.deepEqual(Buffer.from(text.bytes), Buffer.from(pattern(0x3000, 1)));
  });
  const bigStream = compress(codec, big);
  test(`${codec}: ${big.length} bytes round-trip exactly; a wrong size trailer or cut stream is a VmmError`, { skip: typeof bigStream === 'string' ? bigStream : false }, () => {
    const s = bigStream as Uint8Array;
    const out = decompressPayload(kernelPayload(codec, s, big.length), 2 ** 24);
    assert.ok(Buffer.from(out.bytes).equals(Buffer.from(big)));
    const isVmm = (e: unknown): boolean => e instanceof VmmError || assert.fail(`not a VmmError: ${String(e)}`);
    for (const size of [big.length - 1, big.length + 1]) {
      const payload = kernelPayload(codec, s, big.length);
      new DataView(payload.buffer).setUint32(payload.length - 4, size, true); // gzip's ISIZE, or the appended size
      assert.throws(() => decompressPayload(payload, 2 ** 24), isVmm);
    }
    assert.throws(() => decompressPayload(kernelPayload(codec, s.subarray(0, s.length >> 1), big.length), 2 ** 24), isVmm);
  });
}

const code = new Uint8Array(readFileSync(process.execPath).subarray(0x100000, 0x100000 + 3 * 2 ** 20));
const codeXz = compress('xz', code);
test('xz with the x86 BCJ filter restores real x86 code (a slice of the node binary) exactly', { skip: typeof codeXz === 'string' ? codeXz : false }, () => {
  const stream = codeXz as Uint8Array;
  const out = decompressPayload(kernelPayload('xz', stream, code.length), 2 ** 24);
  assert.ok(Buffer.from(out.bytes).equals(Buffer.from(code)));
});

const noCheck = compress('zstd', big, ['--no-check']);
test('zstd without a content checksum takes the streaming decoder: exact length, capped output', { skip: typeof noCheck === 'string' ? noCheck : false }, () => {
  const s = noCheck as Uint8Array;
  assert.equal(s[4]! & 4, 0, 'no checksum flag');
  assert.ok(Buffer.from(decompressPayload(kernelPayload('zstd', s, big.length), 2 ** 24).bytes).equals(Buffer.from(big)));
  for (const size of [big.length - 1, big.length + 1]) {
    assert.throws(() => decompressPayload(kernelPayload('zstd', s, size), 2 ** 24), (e: unknown) => e instanceof VmmError && /zstd/.test(e.message));
  }
});

/** Builds a legacy frame from raw blocks. */
function frame(...blocks: number[][]): Uint8Array {
  const parts: number[] = [0x02, 0x21, 0x4c, 0x18];
  for (const b of blocks) parts.push(b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
  return new Uint8Array(parts);
}

test('lz4 legacy: literals, an overlapping match (run), long lengths, and several blocks', () => {
  // "ab" then a match of 10 at offset 2 (overlapping: repeats "ab"), then literals "Z".
  const block1 = [0x26, 0x61, 0x62, 0x02, 0x00, 0x10, 0x5a];
  const out = new Uint8Array(13 + 300);
  // Second block: 300 literals with an extended length (15 + 255 + 30).
  const block2 = [0xf0, 255, 30, ...new Array(300).fill(0x41)];
  assert.equal(decompressLz4Legacy(frame(block1, block2), out), 313);
  assert.equal(new TextDecoder().decode(out.subarray(0, 13)), 'ababababababZ');
  assert.ok(out.subarray(13).every((b) => b === 0x41));
});

test('lz4 legacy: overlapping matches of every length repeat their last offset bytes, short or long', () => {
  // One block: `offset` distinct literals, a match of n at that offset, then a literal "Z". The
  // expected bytes are LZ4's definition, one byte at a time from offset back; lengths cross the
  // decoder's switch from a byte loop to chunked copyWithin(), whose chunks must keep the period.
  for (const offset of [1, 2, 3, 5, 8, 40]) {
    for (const n of [4, 5, 18, 19, 31, 32, 33, 34, 35, 47, 64, 65, 100, 1000, 4099]) {
      const lits = Array.from({ length: offset }, (_, i) => 0x61 + i);
      const ext = n - 4 >= 15 ? [...new Array(Math.floor((n - 4 - 15) / 255)).fill(255), (n - 4 - 15) % 255] : [];
      const block = [(Math.min(offset, 15) << 4) | Math.min(n - 4, 15), ...(offset >= 15 ? [offset - 15] : []), ...lits, offset, 0, ...ext, 0x10, 0x5a];
      const expected = [...lits];
      for (let i = 0; i < n; i++) expected.push(expected[expected.length - offset]!);
      expected.push(0x5a);
      const out = new Uint8Array(expected.length);
      assert.equal(decompressLz4Legacy(frame(block), out), expected.length, `offset ${offset}, length ${n}`);
      assert.deepEqual([...out], expected, `offset ${offset}, length ${n}`);
    }
  }
});

test('lz4 legacy: corrupt blocks are VmmErrors naming the fault', () => {
  const err = (re: RegExp) => (e: unknown): boolean => e instanceof VmmError && e.code === 'EINVAL' && re.test(e.message);
  const out = new Uint8Array(64);
  assert.throws(() => decompressLz4Legacy(frame([0x10, 0x61, 0x05, 0x00, 0x00]), out), err(/match offset 5 at output 0x1 points before its block/));
  assert.throws(() => decompressLz4Legacy(frame([0x50, 0x61]), out), err(/literal run of 5 bytes .* runs past its block/));
  assert.throws(() => decompressLz4Legacy(frame([0x10, 0x61, 0x01]), out), err(/stops inside a match offset/));
  assert.throws(() => decompressLz4Legacy(frame([0x1f, 0x61, 0x01, 0x00, 0xff, 0xff, 0xff, 0x00]), out), err(/decodes to more than the 0x40 bytes expected/));
  assert.throws(() => decompressLz4Legacy(new Uint8Array([0x02, 0x21, 0x4c, 0x18, 9, 0, 0, 0, 1]), out), err(/claims 0x9 bytes, only 0x1 remain/));
  assert.throws(() => decompressLz4Legacy(new Uint8Array([0x02, 0x21, 0x4c, 0x18, 9, 0]), out), err(/2 stray bytes/));
});

const armXz = (() => {
  const r = spawnSync('xz', ['--check=crc32', '--arm', '--lzma2', '-c'], { input: vmlinux, maxBuffer: 1 << 26 });
  return r.error || r.status !== 0 ? `xz unavailable: ${r.error?.message ?? r.stderr}` : new Uint8Array(r.stdout);
})();
test('decompress "auto" falls back to guest decompression for a payload this loader cannot decode; "host" names why', { skip: typeof armXz === 'string' ? armXz : false }, () => {
  const bz = buildBzImage({ payload: kernelPayload('xz', armXz as Uint8Array, vmlinux.length) });
  const memory = pcMemory(64 * 2 ** 20);
  assert.throws(() => loadLinux({ kernel: bz, cmdline: '', memory }), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /xz filter 0x7 is not supported/.test(e.message));
  const p = loadLinux({ kernel: bz, cmdline: '', memory, decompress: 'auto' });
  assert.equal(p.path, 'bzimage-guest-decompresses');
  assert.equal(p.entry.rip, 0x1000200);
});
