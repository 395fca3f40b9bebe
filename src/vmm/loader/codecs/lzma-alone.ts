/**
 * The .lzma ("LZMA alone") container the kernel build makes with `lzma -9`: a properties byte,
 * the dictionary size (32-bit), the uncompressed size (64-bit, all ones when unknown: then the
 * stream ends with an end marker), then the LZMA stream.
 */
import { VmmError } from '../../../api/errors.js';
import { LzmaDecoder, decodeProps } from './lzma-decoder.js';

const HEADER = 13;

export function decompressLzmaAlone(input: Uint8Array, out: Uint8Array): number {
  if (input.length < HEADER) throw new VmmError('EINVAL', `lzma data of ${input.length} bytes is shorter than its ${HEADER}-byte header`);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const decoder = new LzmaDecoder('lzma data');
  decoder.setProps(decodeProps(input[0]!, 'lzma data'));
  const size = view.getBigUint64(5, true);
  if (size === 0xffffffffffffffffn) {
    return decoder.decode(input, HEADER, input.length, out, 0, out.length, 0, 'marker').outPos;
  }
  if (size > BigInt(out.length)) throw new VmmError('EINVAL', `lzma data declares ${size} bytes, more than the ${out.length} expected`);
  return decoder.decode(input, HEADER, input.length, out, 0, Number(size), 0, 'size').outPos;
}
