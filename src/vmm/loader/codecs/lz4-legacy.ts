/**
 * LZ4 "legacy" frames, what `lz4 -l` writes and the kernel build uses for CONFIG_KERNEL_LZ4:
 * the magic 0x184C2102, then blocks, each a 32-bit little-endian compressed size followed by one
 * independently compressed LZ4 block of at most 8 MiB of output. A size equal to the magic starts
 * another concatenated frame. No library handles this container, and the block format is small,
 * so both are decoded here (format: lz4/doc/lz4_Block_format.md).
 */
import { VmmError, hex } from '../../../api/errors.js';

export const LZ4_LEGACY_MAGIC = 0x184c2102;
/** Legacy blocks decompress to at most 8 MiB each. */
const LEGACY_BLOCK_MAX = 8 * 2 ** 20;
const MIN_MATCH = 4;

/** Decodes the whole input into out; returns the number of bytes written. */
export function decompressLz4Legacy(input: Uint8Array, out: Uint8Array): number {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.length < 4 || view.getUint32(0, true) !== LZ4_LEGACY_MAGIC) throw bad('does not start with the legacy magic 0x184c2102');
  let ip = 4, op = 0;
  while (ip < input.length) {
    if (input.length - ip < 4) throw bad(`has ${input.length - ip} stray bytes at offset ${hex(ip)} where a block size belongs`);
    const size = view.getUint32(ip, true);
    ip += 4;
    if (size === LZ4_LEGACY_MAGIC) continue;
    if (size > input.length - ip) throw bad(`block at offset ${hex(ip - 4)} claims ${hex(size)} bytes, only ${hex(input.length - ip)} remain`);
    op = decodeBlock(input, ip, ip + size, out, op);
    ip += size;
  }
  return op;
}

/** One LZ4 block: sequences of (token, literals, offset, match) ending with literals only. */
function decodeBlock(src: Uint8Array, ip: number, end: number, out: Uint8Array, op: number): number {
  const blockStart = op;
  const limit = Math.min(out.length, blockStart + LEGACY_BLOCK_MAX);
  for (;;) {
    if (ip >= end) throw bad(`block ending at ${hex(end)} stops inside a sequence`);
    const token = src[ip++]!;
    let litLen = token >>> 4;
    if (litLen === 15) ({ value: litLen, ip } = extendLength(src, ip, end, litLen));
    if (litLen > end - ip) throw bad(`literal run of ${litLen} bytes at ${hex(ip)} runs past its block`);
    if (litLen > limit - op) throw overflow(op + litLen, limit, blockStart);
    copyLiterals(out, op, src, ip, litLen);
    ip += litLen;
    op += litLen;
    if (ip === end) return op; // the last sequence has literals only
    if (end - ip < 2) throw bad(`block ending at ${hex(end)} stops inside a match offset`);
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op - blockStart) throw bad(`match offset ${offset} at output ${hex(op)} points before its block`);
    let matchLen = token & 15;
    if (matchLen === 15) ({ value: matchLen, ip } = extendLength(src, ip, end, matchLen));
    matchLen += MIN_MATCH;
    if (matchLen > limit - op) throw overflow(op + matchLen, limit, blockStart);
    copyMatch(out, op, offset, matchLen);
    op += matchLen;
  }
}

/**
 * n literal bytes from src[at] to dst[to]. Most runs are a few bytes long: the loop copies those
 * without the subarray and builtin call that cost more than the copy; a long run goes in one set().
 */
function copyLiterals(dst: Uint8Array, to: number, src: Uint8Array, at: number, n: number): void {
  if (n > 32) dst.set(src.subarray(at, at + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[at + i]!;
}

/**
 * n bytes to out[to] from offset bytes back. A match longer than its offset overlaps its own
 * output and repeats its last offset bytes, as LZ4 means: copying first to last, byte by byte, is
 * exactly that, and is what a short match (most) takes. A long one goes in copyWithin() chunks that
 * never overlap their source: first offset bytes, then each time all written so far, which stays a
 * whole number of periods, so the bytes are the byte loop's. Half the Debian kernel's output is
 * one byte repeated (offset 1), mostly in a few dozen runs of over 1000 bytes: about log2(n) calls
 * each instead of a loop over every byte.
 */
function copyMatch(out: Uint8Array, to: number, offset: number, n: number): void {
  const from = to - offset;
  if (n <= 32) {
    for (let i = 0; i < n; i++) out[to + i] = out[from + i]!;
    return;
  }
  for (let done = 0; done < n;) {
    const chunk = Math.min(offset + done, n - done);
    out.copyWithin(to + done, from, from + chunk);
    done += chunk;
  }
}

/** Lengths of 15 continue in following bytes, each added until one is not 255. */
function extendLength(src: Uint8Array, ip: number, end: number, value: number): { value: number; ip: number } {
  for (;;) {
    if (ip >= end) throw bad(`length at ${hex(ip)} runs past its block`);
    const b = src[ip++]!;
    value += b;
    if (b !== 255) return { value, ip };
  }
}

function overflow(need: number, limit: number, blockStart: number): VmmError {
  return limit - blockStart === LEGACY_BLOCK_MAX
    ? bad(`block starting at output ${hex(blockStart)} decodes past the 8 MiB legacy block size`)
    : bad(`decodes to more than the ${hex(limit)} bytes expected (needs ${hex(need)})`);
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `LZ4 legacy data ${what}`);
}
