/** Zstandard through fzstd (pure JS), decoding straight into the caller's buffer. */
import { decompress } from 'fzstd';
import { VmmError } from '../../../api/errors.js';

export function decompressZstd(input: Uint8Array, out: Uint8Array): number {
  let result: Uint8Array;
  try {
    result = decompress(input, out);
  } catch (e) {
    throw new VmmError('EINVAL', `zstd data is corrupt or longer than the ${out.length} bytes expected: ${(e as Error).message}`);
  }
  if (result.buffer !== out.buffer || result.byteOffset !== out.byteOffset) {
    // fzstd returns a fresh array when the output did not fit the one it was given.
    if (result.length > out.length) throw new VmmError('EINVAL', `zstd data decodes to more than the ${out.length} bytes expected`);
    out.set(result);
  }
  return result.length;
}
