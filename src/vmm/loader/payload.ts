/**
 * The compressed kernel inside a bzImage (payload_offset/payload_length of the setup header),
 * decompressed on the host. The codec is recognised by its magic, as the kernel's own
 * decompressor table does (lib/decompress.c). Every kernel payload ends with the decompressed
 * size as a 32-bit little-endian number: gzip's own ISIZE trailer, and for the other codecs the
 * 4 bytes the build appends (arch/x86/boot/compressed/Makefile, size_append). That size bounds
 * the one output buffer allocated, and the decoded length must equal it.
 */
import { VmmError, hex } from '../../api/errors.js';
import { decompressBzip2 } from './codecs/bzip2.js';
import { decompressGzip } from './codecs/gzip.js';
import { decompressLz4Legacy } from './codecs/lz4-legacy.js';
import { decompressLzmaAlone } from './codecs/lzma-alone.js';
import { decompressLzop } from './codecs/lzo.js';
import { decompressXz } from './codecs/xz.js';
import { decompressZstd } from './codecs/zstd.js';
import { adviseHugePages } from '../../host/ram-pages.js';

export type CodecName = 'gzip' | 'bzip2' | 'lzma' | 'xz' | 'lzo' | 'lz4' | 'zstd';

interface Codec {
  name: CodecName;
  magic: readonly number[];
  /** True when the codec's own stream ends with the size (gzip); else the build appended it. */
  sizeIsPartOfStream: boolean;
  /** Decodes input into out (sized exactly to the expected length); returns the bytes written. */
  decode?: (input: Uint8Array, out: Uint8Array) => number;
}

const CODECS: readonly Codec[] = [
  { name: 'gzip', magic: [0x1f, 0x8b], sizeIsPartOfStream: true, decode: decompressGzip },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], sizeIsPartOfStream: false, decode: decompressBzip2 },
  { name: 'lzma', magic: [0x5d, 0x00, 0x00], sizeIsPartOfStream: false, decode: decompressLzmaAlone },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], sizeIsPartOfStream: false, decode: decompressXz },
  { name: 'lzo', magic: [0x89, 0x4c, 0x5a, 0x4f], sizeIsPartOfStream: false, decode: decompressLzop },
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18], sizeIsPartOfStream: false, decode: decompressLz4Legacy },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], sizeIsPartOfStream: false, decode: decompressZstd },
];

/** The codec whose magic starts the data, or undefined. */
export function detectCodec(data: Uint8Array): CodecName | undefined {
  return CODECS.find((c) => c.magic.every((b, i) => data[i] === b))?.name;
}

export interface DecompressedPayload {
  codec: CodecName;
  bytes: Uint8Array;
}

/**
 * Decompresses a kernel payload. maxBytes caps the declared size (and so the allocation);
 * a larger declaration is refused before anything is allocated.
 */
export function decompressPayload(payload: Uint8Array, maxBytes: number): DecompressedPayload {
  const codec = CODECS.find((c) => c.magic.every((b, i) => payload[i] === b));
  if (!codec) {
    const head = [...payload.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new VmmError('EINVAL', `kernel payload starts with bytes ${head}: no known compression (gzip, bzip2, lzma, xz, lzo, lz4, zstd)`);
  }
  if (!codec.decode) {
    throw new VmmError('ENOTSUP', `kernel payload is ${codec.name}-compressed; this loader decodes ${CODECS.filter((c) => c.decode).map((c) => c.name).join(', ')} (use guest decompression, or a kernel built with one of those)`);
  }
  if (payload.length < codec.magic.length + 4) throw new VmmError('EINVAL', `${codec.name} kernel payload of ${payload.length} bytes is too short to hold data and its size trailer`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const declared = view.getUint32(payload.length - 4, true);
  if (declared === 0) throw new VmmError('EINVAL', `${codec.name} kernel payload declares a decompressed size of 0`);
  if (declared > maxBytes) {
    throw new VmmError('E2BIG', `${codec.name} kernel payload declares ${hex(declared)} decompressed bytes, over the ${hex(maxBytes)}-byte limit`);
  }
  const input = codec.sizeIsPartOfStream ? payload : payload.subarray(0, payload.length - 4);
  const out = new Uint8Array(declared);
  // Tens of MiB written once, front to back: one host page fault per 4 KiB (~14 K for the Debian
  // kernel's 53 MiB, ~0.14 s of a ~0.36 s first decode here) where huge pages take ~1.3 K.
  adviseHugePages(out);
  const written = codec.decode(input, out);
  if (written !== declared) {
    throw new VmmError('EINVAL', `${codec.name} kernel payload decoded to ${hex(written)} bytes, but its trailer declares ${hex(declared)}`);
  }
  return { codec: codec.name, bytes: out };
}
