/**
 * Zstandard through fzstd (pure JS). Its streaming decoder is used because it hands over each
 * decoded chunk: the output can be capped as it grows (a frame may claim any size, or none), and
 * the decoded length is known exactly (the one-shot call with a caller's buffer reports neither).
 */
import { Decompress } from 'fzstd';
import { VmmError } from '../../../api/errors.js';

class OverCap extends Error {}
/** Input is fed in slices; one large push is slower in fzstd. */
const FEED = 64 * 1024;

export function decompressZstd(input: Uint8Array, out: Uint8Array): number {
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
