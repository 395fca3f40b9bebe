/**
 * lzop files (what the kernel build makes with `lzop -9` for CONFIG_KERNEL_LZO): the lzop header,
 * then blocks of (uncompressed size, compressed size, checksums, data), each LZO1X-compressed or
 * stored. The LZO1X decoder follows the stream format as Documentation/staging/lzo.rst in the
 * kernel describes it; the only npm LZO packages are native bindings or unmaintained, so it is
 * written here. Block checksums (Adler-32 or CRC32 of the data) are verified.
 */
import { VmmError, hex } from '../../../api/errors.js';
import { crc32 } from './checksums.js';

const MAGIC = [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
const F = {
  ADLER32_D: 0x1, ADLER32_C: 0x2, H_EXTRA_FIELD: 0x40, CRC32_D: 0x100, CRC32_C: 0x200, H_FILTER: 0x800,
} as const;
/** lzop's own block size limit (64 MiB is its hard maximum). */
const MAX_BLOCK = 64 * 2 ** 20;

class Input {
  constructor(readonly b: Uint8Array, public pos = 0) {}
  need(n: number): void {
    if (this.pos + n > this.b.length) throw bad(`is truncated at offset ${hex(this.pos)}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }
  be16(): number {
    this.need(2);
    const v = (this.b[this.pos]! << 8) | this.b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  be32(): number {
    this.need(4);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getUint32(0, false);
    this.pos += 4;
    return v;
  }
}

export function decompressLzop(input: Uint8Array, out: Uint8Array): number {
  const r = new Input(input);
  for (const m of MAGIC) if (r.u8() !== m) throw bad('has no lzop magic');
  const version = r.be16();
  r.be16(); // library version
  if (version >= 0x0940) r.be16(); // version needed to extract
  const method = r.u8();
  if (method < 1 || method > 3) throw new VmmError('ENOTSUP', `lzo data uses method ${method}; only LZO1X (1-3) is supported`);
  if (version >= 0x0940) r.u8(); // level
  const flags = r.be32();
  if (flags & F.H_FILTER) throw new VmmError('ENOTSUP', 'lzo data uses an lzop filter, which is not supported');
  r.be32(); // mode
  r.be32(); // mtime low
  if (version >= 0x0940) r.be32(); // mtime high
  const nameLen = r.u8();
  r.need(nameLen);
  r.pos += nameLen;
  r.be32(); // header checksum
  if (flags & F.H_EXTRA_FIELD) {
    const len = r.be32();
    r.need(len);
    r.pos += len + 4;
  }
  let pos = 0;
  for (;;) {
    const dstLen = r.be32();
    if (dstLen === 0) return pos;
    const srcLen = r.be32();
    if (dstLen > MAX_BLOCK) throw bad(`block of ${dstLen} bytes is over lzop's 64 MiB limit`);
    if (srcLen === 0 || srcLen > dstLen) throw bad(`block sizes ${srcLen} compressed / ${dstLen} uncompressed are impossible`);
    if (dstLen > out.length - pos) throw bad(`decodes to more than the ${out.length} bytes expected`);
    const dAdler = flags & F.ADLER32_D ? r.be32() : undefined;
    const dCrc = flags & F.CRC32_D ? r.be32() : undefined;
    if (srcLen < dstLen) {
      if (flags & F.ADLER32_C) r.be32();
      if (flags & F.CRC32_C) r.be32();
    }
    r.need(srcLen);
    const src = input.subarray(r.pos, r.pos + srcLen);
    const dst = out.subarray(pos, pos + dstLen);
    if (srcLen === dstLen) dst.set(src);
    else {
      const n = lzo1xDecode(src, dst);
      if (n !== dstLen) throw bad(`block at ${hex(r.pos)} decodes to ${n} bytes, its header says ${dstLen}`);
    }
    if (dAdler !== undefined && adler32(dst) !== dAdler) throw bad(`block at ${hex(r.pos)} fails its Adler-32 check`);
    if (dCrc !== undefined && crc32(dst) !== dCrc) throw bad(`block at ${hex(r.pos)} fails its CRC32 check`);
    r.pos += srcLen;
    pos += dstLen;
  }
}

/**
 * One LZO1X block into out; returns the bytes written. `state` is the number of literals the
 * previous instruction copied (0, 1-3, or 4 for four or more), which decides what 0..15 means.
 */
export function lzo1xDecode(src: Uint8Array, out: Uint8Array): number {
  let ip = 0, op = 0, state = 0;
  const byte = (): number => {
    if (ip >= src.length) throw bad('block is truncated');
    return src[ip++]!;
  };
  /** A length continued in zero bytes (255 each) and a final non-zero byte. */
  const longLength = (base: number): number => {
    let len = base;
    for (;;) {
      const b = byte();
      if (b !== 0) return len + b;
      len += 255;
    }
  };
  const literals = (n: number): void => {
    if (n > src.length - ip) throw bad('literal run runs past the block');
    if (n > out.length - op) throw bad(`block decodes to more than the ${out.length} bytes expected`);
    out.set(src.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const match = (distance: number, len: number): void => {
    if (distance > op) throw bad(`match distance ${distance} at output ${op} reaches before the block`);
    if (len > out.length - op) throw bad(`block decodes to more than the ${out.length} bytes expected`);
    const from = op - distance;
    if (distance >= len) out.copyWithin(op, from, from + len);
    else for (let i = 0; i < len; i++) out[op + i] = out[from + i]!;
    op += len;
  };

  let t = byte();
  if (t === 17) throw bad('block uses the LZO-RLE bitstream (first byte 17), which lzop does not write');
  if (t > 17) {
    literals(t - 17);
    state = t - 17 >= 4 ? 4 : t - 17;
  } else ip--;

  for (;;) {
    t = byte();
    let s: number;
    if (t < 16) {
      if (state === 0) {
        literals((t === 0 ? longLength(15) : t) + 3);
        state = 4;
        continue;
      }
      const h = byte();
      s = t & 3;
      if (state === 4) match((h << 2) + ((t >>> 2) & 3) + 2049, 3);
      else match((h << 2) + ((t >>> 2) & 3) + 1, 2);
    } else if (t < 32) {
      const len = (t & 7 ? t & 7 : longLength(7)) + 2;
      const v = byte() | (byte() << 8);
      s = v & 3;
      const distance = 16384 + ((t & 8) << 11) + (v >>> 2);
      if (distance === 16384) {
        if (len !== 3) throw bad(`end-of-stream marker has length ${len}, not 3`);
        return op;
      }
      match(distance, len);
    } else if (t < 64) {
      const len = (t & 31 ? t & 31 : longLength(31)) + 2;
      const v = byte() | (byte() << 8);
      s = v & 3;
      match((v >>> 2) + 1, len);
    } else {
      const len = t < 128 ? 3 + ((t >>> 5) & 1) : 5 + ((t >>> 5) & 3);
      s = t & 3;
      match((byte() << 3) + ((t >>> 2) & 7) + 1, len);
    }
    if (s > 0) literals(s);
    state = s;
  }
}

function adler32(data: Uint8Array): number {
  let a = 1, b = 0;
  for (let i = 0; i < data.length;) {
    // 5552 bytes is the most that can be summed before the modulo is needed.
    const end = Math.min(data.length, i + 5552);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `lzo data ${what}`);
}
