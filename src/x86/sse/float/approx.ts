/**
 * RCPPS/RCPSS and RSQRTPS/RSQRTSS: the reference CPU's table approximations (approx-tables.ts).
 * They raise no exception and ignore MXCSR: a subnormal operand reads as zero (result infinity of
 * its sign), a result below the normal range is a zero, a SNaN comes back quieted without IE.
 */
import { RCP_TABLE, RSQRT_EVEN_TABLE, RSQRT_ODD_TABLE } from './approx-tables.js';

/** Expands a table: entry i is the raw f32 result bits for index i. */
function expand(t: { first: number; steps: string }): Uint32Array {
  const out = new Uint32Array(t.steps.length + 1);
  let v = t.first >>> 11;
  out[0] = t.first;
  for (let i = 0; i < t.steps.length; i++) {
    v -= t.steps.charCodeAt(i) - 48;
    out[i + 1] = v << 11;
  }
  return out;
}

const RCP = expand(RCP_TABLE);
const RSQRT = [expand(RSQRT_EVEN_TABLE), expand(RSQRT_ODD_TABLE)];
const DEFAULT_NAN = 0xffc00000;

/** 1/x on raw f32 bits. Table entries are for exponent field 127 (results have field 126). */
export function reciprocal(raw: number): number {
  const sign = raw & 0x80000000, e = (raw >>> 23) & 0xff;
  if (e === 0xff) return (raw & 0x7fffff) !== 0 ? (raw | 0x400000) >>> 0 : sign >>> 0;
  if (e === 0) return (sign | 0x7f800000) >>> 0;
  const outExp = 253 - e;
  if (outExp <= 0) return sign >>> 0;
  return (sign | (outExp << 23) | (RCP[(raw >>> 11) & 0xfff] & 0x7fffff)) >>> 0;
}

/** 1/sqrt(x) on raw f32 bits. Entries are for exponent fields 126 (even) and 127 (odd). */
export function reciprocalSqrt(raw: number): number {
  const sign = raw & 0x80000000, e = (raw >>> 23) & 0xff;
  if (e === 0xff && (raw & 0x7fffff) !== 0) return (raw | 0x400000) >>> 0;
  if (e === 0) return (sign | 0x7f800000) >>> 0;
  if (sign) return DEFAULT_NAN;
  if (e === 0xff) return 0;
  const odd = e & 1;
  const t = RSQRT[odd][(raw >>> 11) & 0xfff];
  // x = m * 2^(e - base) with base 126 or 127: the result scales by 2^((base - e) / 2).
  return (t + ((((126 + odd) - e) / 2) << 23)) >>> 0;
}
