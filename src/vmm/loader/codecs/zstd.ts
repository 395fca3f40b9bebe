/**
 * Zstandard through fzstd (pure JS), two ways:
 * - one frame carrying a content checksum (what `zstd` writes by default, so every kernel
 *   payload): fzstd decodes straight into the output buffer, which is fast, and the frame's
 *   XXH64 checksum over that buffer proves both the bytes and the length (fzstd's one-shot call
 *   reports neither an overrun nor a short result);
 * - a frame without one: fzstd's streaming decoder, which hands over each chunk, so the output is
 *   capped as it grows and its length is exact. It copies its whole window per block, which
 *   with a kernel's 128 MiB window is several times slower, hence the first way.
 * Frame format: RFC 8878.
 */
import { Decompress, decompress } from 'fzstd';
import { VmmError, hex } from '../../../api/errors.js';
import { xxh64Low32 } from './checksums.js';

class OverCap extends Error {}
/** Input is fed to the streaming decoder in slices; one large push is slower in fzstd. */
const FEED = 64 * 1024;
const FRAME_MAGIC = 0xfd2fb528;

export function decompressZstd(input: Uint8Array, out: Uint8Array): number {
  const frame = describeFrame(input);
  if (frame.contentSize !== undefined && frame.contentSize !== out.length) {
    throw new VmmError('EINVAL', `zstd frame declares ${hex(frame.contentSize)} content bytes, not the ${hex(out.length)} expected`);
  }
  // fzstd allocates the window (or the content size) up front; a corrupt header may claim 2 GiB.
  if (frame.windowSize > Math.max(out.length, MAX_WINDOW)) {
    throw new VmmError('EINVAL', `zstd frame asks for a ${hex(frame.windowSize)}-byte window for ${hex(out.length)} bytes of content`);
  }
  if (frame.checksumAt !== undefined) return decodeChecked(input, out, frame.checksumAt);
  return decodeStreaming(input, out);
}

/** The largest window zstd's own levels use (--ultra -22: 2^27). */
const MAX_WINDOW = 2 ** 27;

interface FrameInfo {
  contentSize?: number;
  windowSize: number;
  /** Offset of the 4-byte content checksum, when the frame has one. */
  checksumAt?: number;
}

/**
 * Reads the frame header and walks the block headers (not the blocks' contents) to the frame's
 * end. A kernel payload is exactly one frame; anything else is refused.
 */
function describeFrame(input: Uint8Array): FrameInfo {
  const v = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const bad = (what: string): VmmError => new VmmError('EINVAL', `zstd data ${what}`);
  if (input.length < 6 || v.getUint32(0, true) !== FRAME_MAGIC) throw bad('does not start with a zstd frame');
  const fhd = input[4]!;
  const fcsCode = fhd >>> 6, singleSegment = (fhd >>> 5) & 1, checksum = (fhd >>> 2) & 1, dictCode = fhd & 3;
  if (fhd & 8) throw bad(`frame header descriptor ${hex(fhd)} sets the reserved bit`);
  if (dictCode !== 0) throw new VmmError('ENOTSUP', 'zstd frame needs a dictionary, which a kernel payload never does');
  let at = 5;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = input[at++]!;
    const base = 2 ** (10 + (wd >>> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsCode]!;
  if (at + fcsSize > input.length) throw bad('is truncated in its frame header');
  let contentSize: number | undefined;
  if (fcsSize === 1) contentSize = input[at]!;
  else if (fcsSize === 2) contentSize = v.getUint16(at, true) + 256;
  else if (fcsSize === 4) contentSize = v.getUint32(at, true);
  else if (fcsSize === 8) contentSize = Number(v.getBigUint64(at, true));
  if (singleSegment) windowSize = contentSize!;
  at += fcsSize;
  for (;;) {
    if (at + 3 > input.length) throw bad('is truncated in a block header');
    const header = input[at]! | (input[at + 1]! << 8) | (input[at + 2]! << 16);
    const type = (header >>> 1) & 3, size = header >>> 3;
    if (type === 3) throw bad(`has a reserved block type at ${hex(at)}`);
    at += 3 + (type === 1 ? 1 : size);
    if (header & 1) break;
  }
  const end = at + (checksum ? 4 : 0);
  if (end !== input.length) throw bad(`frame ends at ${hex(end)} but the payload has ${hex(input.length)} bytes: not a single frame`);
  return { contentSize, windowSize, checksumAt: checksum ? at : undefined };
}

function decodeChecked(input: Uint8Array, out: Uint8Array, checksumAt: number): number {
  try {
    decompress(input, out);
  } catch (e) {
    throw new VmmError('EINVAL', `zstd data is corrupt or longer than the ${out.length} bytes expected: ${(e as Error).message}`);
  }
  const stored = new DataView(input.buffer, input.byteOffset, input.byteLength).getUint32(checksumAt, true);
  if (xxh64Low32(out) !== stored) {
    throw new VmmError('EINVAL', `zstd data does not decode to the ${out.length} bytes expected (content checksum mismatch)`);
  }
  return out.length;
}

function decodeStreaming(input: Uint8Array, out: Uint8Array): number {
  let pos = 0;
  const decoder = new Decompress((chunk) => {
    if (chunk.length > out.length - pos) throw new OverCap();
    out.set(chunk, pos);
    pos += chunk.length;
  });
  try {
    for (let at = 0; at < input.length; at += FEED) decoder.push(input.subarray(at, at + FEED), at + FEED >= input.length);
  } catch (e) {
    if (e instanceof OverCap) throw new VmmError('EINVAL', `zstd data decodes to more than the ${out.length} bytes expected`);
    throw new VmmError('EINVAL', `zstd data is corrupt: ${(e as Error).message}`);
  }
  return pos;
}
