/**
 * The .xz container (the xz file format specification, tukaani.org) as the kernel build makes it
 * (`xz --check=crc32 --x86 --lzma2=...`): stream header, blocks whose filter chain is an optional
 * x86 BCJ filter followed by LZMA2, the index, the stream footer, optional stream padding and
 * further streams. Each block's check (none, CRC32, CRC64 or SHA-256) is verified.
 */
import { createHash } from 'node:crypto';
import { VmmError, hex } from '../../../api/errors.js';
import { bcjX86Decode } from './bcj-x86.js';
import { crc32, crc64 } from './checksums.js';
import { LzmaDecoder, decodeProps } from './lzma-decoder.js';

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const FILTER_X86 = 0x04, FILTER_LZMA2 = 0x21;
/** Check type -> size of the check field in bytes. */
const CHECK_SIZE: Readonly<Record<number, number>> = { 0: 0, 1: 4, 4: 8, 10: 32 };

class Reader {
  constructor(readonly data: Uint8Array, public pos: number) {}
  byte(): number {
    if (this.pos >= this.data.length) throw bad(`is truncated at offset ${hex(this.pos)}`);
    return this.data[this.pos++]!;
  }
  u32(): number {
    if (this.pos + 4 > this.data.length) throw bad(`is truncated at offset ${hex(this.pos)}`);
    const v = new DataView(this.data.buffer, this.data.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return v;
  }
  /** Variable-length integer: 7 bits a byte, at most 9 bytes; kept below 2^53. */
  vli(what: string): number {
    let v = 0, mul = 1;
    for (let i = 0; i < 9; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) {
        if (v > Number.MAX_SAFE_INTEGER) throw bad(`${what} is absurdly large`);
        return v;
      }
      mul *= 128;
    }
    throw bad(`${what} is longer than 9 bytes`);
  }
}

export function decompressXz(input: Uint8Array, out: Uint8Array): number {
  let pos = 0, outPos = 0;
  for (;;) {
    ({ pos, outPos } = decodeStream(input, pos, out, outPos));
    // Stream padding: zero bytes in multiples of four, then possibly another stream.
    while (pos < input.length && input[pos] === 0) pos++;
    if (pos >= input.length) return outPos;
    if (pos % 4 !== 0) throw bad(`stream padding before offset ${hex(pos)} is not a multiple of 4 bytes`);
  }
}

function decodeStream(input: Uint8Array, start: number, out: Uint8Array, outStart: number): { pos: number; outPos: number } {
  const r = new Reader(input, start);
  for (const b of MAGIC) if (r.byte() !== b) throw bad(`has no stream header magic at offset ${hex(start)}`);
  const flags = input.subarray(r.pos, r.pos + 2);
  r.pos += 2;
  if (r.u32() !== crc32(flags)) throw bad('stream header CRC32 does not match');
  const check = flags[1]! & 0x0f;
  if (flags[0] !== 0 || flags[1]! & 0xf0) throw bad(`stream flags ${hex(flags[0]!)} ${hex(flags[1]!)} use reserved bits`);
  const checkSize = CHECK_SIZE[check];
  if (checkSize === undefined) throw new VmmError('ENOTSUP', `xz check type ${check} is not supported (none, CRC32, CRC64, SHA-256 are)`);
  let outPos = outStart;
  let blocks = 0;
  const dict = new LzmaDecoder('xz LZMA2 data');
  while (input[r.pos] !== 0) {
    if (r.pos >= input.length) throw bad('is truncated before its index');
    const blockOut = outPos;
    outPos = decodeBlock(r, out, outPos, dict);
    while (r.pos % 4 !== (start % 4)) if (r.byte() !== 0) throw bad('block padding is not zero');
    verifyCheck(check, out.subarray(blockOut, outPos), input.subarray(r.pos, r.pos + checkSize), r.pos);
    r.pos += checkSize;
    blocks++;
  }
  // Index: indicator 0, record count, records, padding, CRC32; then the 12-byte footer.
  const indexStart = r.pos;
  r.byte();
  const records = r.vli('index record count');
  if (records !== blocks) throw bad(`index lists ${records} blocks, the stream has ${blocks}`);
  for (let i = 0; i < records; i++) {
    r.vli('index unpadded size');
    r.vli('index uncompressed size');
  }
  while ((r.pos - start) % 4 !== 0) if (r.byte() !== 0) throw bad('index padding is not zero');
  if (r.u32() !== crc32(input.subarray(indexStart, r.pos - 4))) throw bad('index CRC32 does not match');
  r.u32(); // footer CRC32 (over backward size and flags)
  r.u32(); // backward size
  r.pos += 2;
  for (const b of FOOTER_MAGIC) if (r.byte() !== b) throw bad('stream footer magic "YZ" is missing');
  return { pos: r.pos, outPos };
}

/** One block: header (size, flags, optional sizes, filters, CRC32), then its LZMA2 data. */
function decodeBlock(r: Reader, out: Uint8Array, outStart: number, decoder: LzmaDecoder): number {
  const headerStart = r.pos;
  const headerSize = (r.byte() + 1) * 4;
  const headerEnd = headerStart + headerSize;
  if (headerEnd > r.data.length) throw bad(`block header at ${hex(headerStart)} runs past the end`);
  if (new DataView(r.data.buffer, r.data.byteOffset + headerEnd - 4, 4).getUint32(0, true) !== crc32(r.data.subarray(headerStart, headerEnd - 4))) {
    throw bad(`block header CRC32 at ${hex(headerStart)} does not match`);
  }
  const flags = r.byte();
  if (flags & 0x3c) throw bad(`block flags ${hex(flags)} use reserved bits`);
  if (flags & 0x40) r.vli('block compressed size');
  const declaredOut = flags & 0x80 ? r.vli('block uncompressed size') : undefined;
  const filters: { id: number; props: Uint8Array }[] = [];
  for (let i = 0; i <= (flags & 3); i++) {
    const id = r.vli('filter id');
    const size = r.vli('filter properties size');
    if (r.pos + size > headerEnd - 4) throw bad('filter properties run past the block header');
    filters.push({ id, props: r.data.subarray(r.pos, r.pos + size) });
    r.pos += size;
  }
  r.pos = headerEnd;
  const last = filters[filters.length - 1]!;
  if (last.id !== FILTER_LZMA2 || last.props.length !== 1) throw bad(`block's last filter is ${hex(last.id)}, not LZMA2 (0x21) with 1 property byte`);
  const bcj = filters.slice(0, -1);
  for (const f of bcj) {
    if (f.id !== FILTER_X86) throw new VmmError('ENOTSUP', `xz filter ${hex(f.id)} is not supported (x86 BCJ 0x4 and LZMA2 are)`);
    if (f.props.length !== 0 && f.props.length !== 4) throw bad(`x86 BCJ filter has ${f.props.length} property bytes, not 0 or 4`);
  }
  if (last.props[0]! > 40) throw bad(`LZMA2 dictionary size byte ${last.props[0]} is over 40`);
  const outEnd = decodeLzma2(r, out, outStart, decoder);
  if (declaredOut !== undefined && outEnd - outStart !== declaredOut) {
    throw bad(`block declares ${declaredOut} uncompressed bytes but holds ${outEnd - outStart}`);
  }
  for (const f of bcj) {
    const startOffset = f.props.length === 4 ? new DataView(f.props.buffer, f.props.byteOffset, 4).getUint32(0, true) : 0;
    bcjX86Decode(out.subarray(outStart, outEnd), startOffset);
  }
  return outEnd;
}

/** LZMA2 chunks until the end-of-data control byte 0x00. */
function decodeLzma2(r: Reader, out: Uint8Array, outStart: number, decoder: LzmaDecoder): number {
  let pos = outStart, dictStart = outStart, needDictReset = true, needProps = true;
  for (;;) {
    const control = r.byte();
    if (control === 0x00) return pos;
    if (control === 0x01 || control === 0x02) {
      if (control === 0x01) { dictStart = pos; needDictReset = false; }
      else if (needDictReset) throw bad('LZMA2 starts without a dictionary reset');
      const size = ((r.byte() << 8) | r.byte()) + 1;
      if (r.pos + size > r.data.length) throw bad('LZMA2 uncompressed chunk runs past the end');
      if (size > out.length - pos) throw bad(`decodes to more than the ${out.length} bytes expected`);
      out.set(r.data.subarray(r.pos, r.pos + size), pos);
      r.pos += size;
      pos += size;
      continue;
    }
    if (control < 0x80) throw bad(`LZMA2 control byte ${hex(control)} is invalid`);
    const reset = (control >>> 5) & 3;
    const unpacked = (control & 0x1f) * 65536 + ((r.byte() << 8) | r.byte()) + 1;
    const packed = ((r.byte() << 8) | r.byte()) + 1;
    if (reset === 3) { dictStart = pos; needDictReset = false; }
    else if (needDictReset) throw bad('LZMA2 starts without a dictionary reset');
    if (reset >= 2) {
      const props = decodeProps(r.byte(), 'xz LZMA2 data');
      if (props.lc + props.lp > 4) throw bad(`LZMA2 lc ${props.lc} + lp ${props.lp} is over 4`);
      decoder.setProps(props);
      needProps = false;
    } else if (needProps) throw bad('LZMA2 chunk has no properties yet');
    else if (reset === 1) decoder.resetState();
    if (r.pos + packed > r.data.length) throw bad('LZMA2 chunk runs past the end');
    if (unpacked > out.length - pos) throw bad(`decodes to more than the ${out.length} bytes expected`);
    pos = decoder.decode(r.data, r.pos, r.pos + packed, out, pos, pos + unpacked, dictStart, 'size').outPos;
    r.pos += packed;
  }
}

function verifyCheck(type: number, data: Uint8Array, stored: Uint8Array, at: number): void {
  let ok = true;
  if (type === 1) ok = new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0, true) === crc32(data);
  else if (type === 4) ok = Buffer.from(crc64(data)).equals(stored);
  else if (type === 10) ok = createHash('sha256').update(data).digest().equals(stored);
  if (stored.length !== (CHECK_SIZE[type] ?? 0)) throw bad(`is truncated in a block check at ${hex(at)}`);
  if (!ok) throw bad(`block check (type ${type}) at ${hex(at)} does not match the decoded data`);
}

function bad(what: string): VmmError {
  return new VmmError('EINVAL', `xz data ${what}`);
}
