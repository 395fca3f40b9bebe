/** CRC32 (IEEE, reflected) and CRC64 (ECMA-182, reflected) as xz uses them; node:zlib's crc32 is Node 22+. */

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC64 table split into 32-bit halves so the per-byte loop stays in Smi/uint32 arithmetic. */
const CRC64_HI = new Uint32Array(256), CRC64_LO = new Uint32Array(256);
(() => {
  const POLY_HI = 0xc96c5795, POLY_LO = 0xd7870f42;
  for (let i = 0; i < 256; i++) {
    let hi = 0, lo = i;
    for (let k = 0; k < 8; k++) {
      const odd = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (odd) {
        hi = (hi ^ POLY_HI) >>> 0;
        lo = (lo ^ POLY_LO) >>> 0;
      }
    }
    CRC64_HI[i] = hi;
    CRC64_LO[i] = lo;
  }
})();

/** CRC64 as 8 little-endian bytes, the way xz stores it. */
export function crc64(data: Uint8Array): Uint8Array {
  let hi = 0xffffffff, lo = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ CRC64_HI[idx]!) >>> 0;
  }
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, (lo ^ 0xffffffff) >>> 0, true);
  v.setUint32(4, (hi ^ 0xffffffff) >>> 0, true);
  return out;
}

// XXH64 (the xxHash spec, as zstd's content checksum uses it), in 32-bit halves: BigInt is far
// too slow for a 50 MB kernel. Each 64-bit value is a (hi, lo) pair of uint32s.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
/** Result registers of the pair operations below (avoids allocating a pair per step). */
let RH = 0, RL = 0;

function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0;
  const low = a0 * b0 + (mid % 65536) * 65536;
  const high = a1 * b1 + Math.floor(mid / 65536) + Math.floor(low / 4294967296);
  RL = low >>> 0;
  RH = (high + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  RL = lo >>> 0;
  RH = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function rotl64(h: number, l: number, r: number): void {
  RH = ((h << r) | (l >>> (32 - r))) >>> 0;
  RL = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round64(acch: number, accl: number, inh: number, inl: number): void {
  mul64(inh, inl, P2H, P2L);
  add64(acch, accl, RH, RL);
  rotl64(RH, RL, 31);
  mul64(RH, RL, P1H, P1L);
}

/** XXH64 with seed 0; returns the low 32 bits (what a zstd frame stores). */
export function xxh64Low32(data: Uint8Array): number {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let i = 0, hh: number, hl: number;
  if (len >= 32) {
    add64(P1H, P1L, P2H, P2L);
    let v1h = RH, v1l = RL, v2h = P2H, v2l = P2L, v3h = 0, v3l = 0;
    add64(0, 0, ~P1H >>> 0, ~P1L >>> 0); // -P1 = ~P1 + 1
    add64(RH, RL, 0, 1);
    let v4h = RH, v4l = RL;
    for (; i + 32 <= len; i += 32) {
      round64(v1h, v1l, v.getUint32(i + 4, true), v.getUint32(i, true)); v1h = RH; v1l = RL;
      round64(v2h, v2l, v.getUint32(i + 12, true), v.getUint32(i + 8, true)); v2h = RH; v2l = RL;
      round64(v3h, v3l, v.getUint32(i + 20, true), v.getUint32(i + 16, true)); v3h = RH; v3l = RL;
      round64(v4h, v4l, v.getUint32(i + 28, true), v.getUint32(i + 24, true)); v4h = RH; v4l = RL;
    }
    rotl64(v1h, v1l, 1); hh = RH; hl = RL;
    rotl64(v2h, v2l, 7); add64(hh, hl, RH, RL); hh = RH; hl = RL;
    rotl64(v3h, v3l, 12); add64(hh, hl, RH, RL); hh = RH; hl = RL;
    rotl64(v4h, v4l, 18); add64(hh, hl, RH, RL); hh = RH; hl = RL;
    for (const [xh, xl] of [[v1h, v1l], [v2h, v2l], [v3h, v3l], [v4h, v4l]] as const) {
      round64(0, 0, xh, xl);
      hh = (hh ^ RH) >>> 0; hl = (hl ^ RL) >>> 0;
      mul64(hh, hl, P1H, P1L);
      add64(RH, RL, P4H, P4L); hh = RH; hl = RL;
    }
  } else {
    hh = P5H; hl = P5L;
  }
  add64(hh, hl, Math.floor(len / 4294967296), len >>> 0); hh = RH; hl = RL;
  for (; i + 8 <= len; i += 8) {
    round64(0, 0, v.getUint32(i + 4, true), v.getUint32(i, true));
    hh = (hh ^ RH) >>> 0; hl = (hl ^ RL) >>> 0;
    rotl64(hh, hl, 27);
    mul64(RH, RL, P1H, P1L);
    add64(RH, RL, P4H, P4L); hh = RH; hl = RL;
  }
  if (i + 4 <= len) {
    mul64(0, v.getUint32(i, true), P1H, P1L);
    hh = (hh ^ RH) >>> 0; hl = (hl ^ RL) >>> 0;
    rotl64(hh, hl, 23);
    mul64(RH, RL, P2H, P2L);
    add64(RH, RL, P3H, P3L); hh = RH; hl = RL;
    i += 4;
  }
  for (; i < len; i++) {
    mul64(0, data[i]!, P5H, P5L);
    hh = (hh ^ RH) >>> 0; hl = (hl ^ RL) >>> 0;
    rotl64(hh, hl, 11);
    mul64(RH, RL, P1H, P1L); hh = RH; hl = RL;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul64(hh, hl, P2H, P2L); hh = RH; hl = RL;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; hh = (hh ^ (hh >>> 29)) >>> 0;
  mul64(hh, hl, P3H, P3L); hh = RH; hl = RL;
  hl = (hl ^ hh) >>> 0;
  return hl;
}
