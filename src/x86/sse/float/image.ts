/** Lane access on register images (little-endian byte arrays: 16 for XMM, 8 for MMX and GPRs). */
import type { FloatFormat } from './format.js';

export function getU32(img: Uint8Array, i: number): number {
  const o = i * 4;
  return (img[o] | (img[o + 1] << 8) | (img[o + 2] << 16) | (img[o + 3] << 24)) >>> 0;
}

export function setU32(img: Uint8Array, i: number, v: number): void {
  const o = i * 4;
  img[o] = v & 0xff; img[o + 1] = (v >>> 8) & 0xff; img[o + 2] = (v >>> 16) & 0xff; img[o + 3] = v >>> 24;
}

/** Lane i (of width f.bytes) as raw bits. */
export function getLane(img: Uint8Array, f: FloatFormat, i: number): bigint {
  if (f.bytes === 4) return BigInt(getU32(img, i));
  return (BigInt(getU32(img, 2 * i + 1)) << 32n) | BigInt(getU32(img, 2 * i));
}

export function setLane(img: Uint8Array, f: FloatFormat, i: number, v: bigint): void {
  if (f.bytes === 4) { setU32(img, i, Number(v)); return; }
  setU32(img, 2 * i, Number(v & 0xffffffffn));
  setU32(img, 2 * i + 1, Number(v >> 32n));
}

/** A signed integer lane of 4 or 8 bytes. */
export function getInt(img: Uint8Array, bytes: 4 | 8, i: number): bigint {
  if (bytes === 4) return BigInt(getU32(img, i) | 0);
  return BigInt.asIntN(64, (BigInt(getU32(img, 2 * i + 1)) << 32n) | BigInt(getU32(img, 2 * i)));
}

/** Writes the low `bytes` bytes of v (an unsigned bit pattern) as lane i. */
export function setInt(img: Uint8Array, bytes: 4 | 8, i: number, v: bigint): void {
  if (bytes === 4) { setU32(img, i, Number(v & 0xffffffffn)); return; }
  setU32(img, 2 * i, Number(v & 0xffffffffn));
  setU32(img, 2 * i + 1, Number((v >> 32n) & 0xffffffffn));
}
