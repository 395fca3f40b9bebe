/**
 * A 16-byte vector value with typed views of its lanes (little-endian, as the host x86 and the
 * guest are), and the saturation helpers the packed integer instructions share. MMX values use
 * the low 8 bytes.
 */
export class Vec {
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly u64: BigUint64Array;
  readonly i64: BigInt64Array;

  constructor() {
    const b = new ArrayBuffer(16);
    this.u8 = new Uint8Array(b); this.i8 = new Int8Array(b);
    this.u16 = new Uint16Array(b); this.i16 = new Int16Array(b);
    this.u32 = new Uint32Array(b); this.i32 = new Int32Array(b);
    this.u64 = new BigUint64Array(b); this.i64 = new BigInt64Array(b);
  }

  // Four lane stores: a TypedArray fill() or set() call costs several times as much for 16 bytes.
  zero(): void { const w = this.i32; w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 0; }
  copy(from: Vec): void { copyLanes(this.i32, from.i32); }
}

/** 16 bytes as four 32-bit lanes (int32 copies keep every bit pattern). */
export function copyLanes(to: Int32Array, from: Int32Array): void {
  to[0] = from[0]!; to[1] = from[1]!; to[2] = from[2]!; to[3] = from[3]!;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('src/x86/sse needs a little-endian host (its lane views alias guest byte order)');
}

/**
 * Copies bytes 0..n-1 of src to dst. A loop, not dst.set(src.subarray(0, n)): that allocates a
 * view per executed instruction, which the garbage collector then pays for in SIMD-heavy code.
 */
export function copyBytes(dst: Uint8Array, src: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}

export type Lane = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32';
export const LANE_BYTES: Record<Lane, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4 };

export const satI8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
export const satU8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
export const satI16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
export const satU16 = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);
