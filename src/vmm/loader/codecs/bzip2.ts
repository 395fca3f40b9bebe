/** bzip2 through seek-bzip (pure JS), with an output stream that refuses to grow past the cap. */
import Bunzip from 'seek-bzip';
import { VmmError } from '../../../api/errors.js';

class OverCap extends Error {}
class PastEnd extends Error {}

export function decompressBzip2(input: Uint8Array, out: Uint8Array): number {
  let pos = 0;
  const sink = {
    writeByte(b: number): void {
      if (pos >= out.length) throw new OverCap();
      out[pos++] = b;
    },
    write(buf: Uint8Array, offset: number, length: number): number {
      for (let i = 0; i < length; i++) this.writeByte(buf[offset + i]!);
      return length;
    },
    flush(): void {},
  };
  let at = 0;
  const source = {
    // A valid stream never reads past its end; the reader would otherwise see endless 1 bits.
    readByte: (): number => {
      if (at >= input.length) throw new PastEnd();
      return input[at++]!;
    },
    read(buf: Uint8Array, off: number, len: number): number {
      if (at >= input.length) return -1;
      const n = Math.min(len, input.length - at);
      buf.set(input.subarray(at, at + n), off);
      at += n;
      return n;
    },
    seek: (p: number): void => { at = p; },
    eof: (): boolean => at >= input.length,
  };
  try {
    Bunzip.decode(source, sink, true);
  } catch (e) {
    if (e instanceof PastEnd) throw new VmmError('EINVAL', `bzip2 data is truncated: decoding runs past its ${input.length} bytes`);
    if (e instanceof OverCap) throw new VmmError('EINVAL', `bzip2 data decodes to more than the ${out.length} bytes expected`);
    throw new VmmError('EINVAL', `bzip2 data is corrupt: ${(e as Error).message}`);
  }
  return pos;
}
