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
