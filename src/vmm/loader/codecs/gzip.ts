/** gzip through node:zlib, with the output capped so a corrupt or hostile stream cannot balloon. */
import { gunzipSync } from 'node:zlib';
import { VmmError } from '../../../api/errors.js';

export function decompressGzip(input: Uint8Array, out: Uint8Array): number {
  let result: Buffer;
  try {
    // One byte over the cap lets "too long" be told apart from "exactly right".
    result = gunzipSync(input, { maxOutputLength: out.length + 1 });
  } catch (e) {
    throw new VmmError('EINVAL', `gzip data is corrupt or longer than the ${out.length} bytes expected: ${(e as Error).message}`);
  }
  if (result.length > out.length) throw new VmmError('EINVAL', `gzip data decodes to more than the ${out.length} bytes expected`);
  out.set(result);
  return result.length;
}
