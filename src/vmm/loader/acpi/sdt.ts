/**
 * The pieces every ACPI system description table shares: the 36-byte header (signature, length,
 * revision, checksum, OEM and creator ids), the byte checksum that makes a table sum to zero,
 * the Generic Address Structure, and a little-endian writer over a fixed-size table.
 */
import { VmmError, hex } from '../../../api/errors.js';

export const SDT_HEADER_SIZE = 36;

/** Who the tables say built them. OEM ids are space-padded ASCII of fixed width. */
export const OEM_ID = 'TSVISR';
export const OEM_TABLE_ID = 'TSVISOR ';
export const OEM_REVISION = 1;
export const CREATOR_ID = 'TSVR';
export const CREATOR_REVISION = 1;

/** Sum of bytes modulo 256. */
export function byteSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

/** The byte that makes bytes[start, end) sum to zero, stored at `at` (which lies inside the range). */
export function fixChecksum(bytes: Uint8Array, at: number, start = 0, end = bytes.length): void {
  bytes[at] = 0;
  bytes[at] = (0x100 - byteSum(bytes, start, end)) & 0xff;
}

/**
 * Little-endian fields at fixed offsets of a table being built. `origin` is the table offset of
 * byte 0, so a body written after the header can use the offsets the specification gives.
 */
export class TableWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number, private readonly origin = 0) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(at: number, v: number): void {
    this.check(at, v, 1);
    this.view.setUint8(at - this.origin, v);
  }
  u16(at: number, v: number): void {
    this.check(at, v, 2);
    this.view.setUint16(at - this.origin, v, true);
  }
  u32(at: number, v: number): void {
    this.check(at, v, 4);
    this.view.setUint32(at - this.origin, v, true);
  }
  u64(at: number, v: number | bigint): void {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 64n) throw new VmmError('EINVAL', `table field value ${hex(b)} does not fit in 8 bytes`);
    this.view.setBigUint64(at - this.origin, b, true);
  }
  /** ASCII text of exactly `width` characters (callers pad). */
  ascii(at: number, text: string, width: number): void {
    if (text.length !== width || !/^[\x20-\x7e]*$/.test(text)) {
      throw new VmmError('EINVAL', `table id "${text}" is not ${width} printable ASCII characters`);
    }
    for (let i = 0; i < width; i++) this.bytes[at - this.origin + i] = text.charCodeAt(i);
  }
  set(at: number, bytes: Uint8Array): void {
    this.bytes.set(bytes, at - this.origin);
  }

  private check(at: number, v: number, width: number): void {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * width)) {
      throw new VmmError('EINVAL', `table field at offset ${at} value ${v} does not fit in ${width} bytes`);
    }
  }
}

/** A writer for the body of a table of `length` bytes, addressed with whole-table offsets. */
export function bodyWriter(length: number): TableWriter {
  return new TableWriter(length - SDT_HEADER_SIZE, SDT_HEADER_SIZE);
}

/**
 * A complete SDT: header plus body, with the length and checksum filled in. The body is what
 * follows the 36-byte header.
 */
export function sdt(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const w = new TableWriter(SDT_HEADER_SIZE + body.length);
  w.ascii(0, signature, 4);
  w.u32(4, w.bytes.length);
  w.u8(8, revision);
  w.ascii(10, OEM_ID, 6);
  w.ascii(16, OEM_TABLE_ID, 8);
  w.u32(24, OEM_REVISION);
  w.ascii(28, CREATOR_ID, 4);
  w.u32(32, CREATOR_REVISION);
  w.set(SDT_HEADER_SIZE, body);
  fixChecksum(w.bytes, 9);
  return w.bytes;
}

/** Address space ids of a Generic Address Structure. */
export const GasSpace = { SystemMemory: 0, SystemIo: 1, PciConfig: 2 } as const;
/** Access sizes of a GAS: 0 = undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword. */
export const GasAccess = { Undefined: 0, Byte: 1, Word: 2, DWord: 3, QWord: 4 } as const;

export interface Gas {
  space: number;
  bitWidth: number;
  bitOffset?: number;
  access: number;
  address: number | bigint;
}

export const GAS_SIZE = 12;

/** The 12-byte Generic Address Structure at `at`. */
export function writeGas(w: TableWriter, at: number, g: Gas): void {
  w.u8(at, g.space);
  w.u8(at + 1, g.bitWidth);
  w.u8(at + 2, g.bitOffset ?? 0);
  w.u8(at + 3, g.access);
  w.u64(at + 4, g.address);
}
