/**
 * SSSE3 (0F 38 00-0B, 1C-1E; 0F 3A 0F), each in its MMX (no prefix) and XMM (66) form:
 * PSHUFB, horizontal add/subtract (PHADDx/PHSUBx, saturating W forms), PMADDUBSW, PMULHRSW,
 * PSIGN*, PABS*, PALIGNR.
 */
import { defPair } from './form.js';
import type { Op } from './form.js';
import { lanewise } from './ops-int.js';
import { copyBytes, satI16 } from './vec.js';

const pshufb: Op = (d, s, e) => {
  const t = e.t;
  for (let i = 0; i < e.n; i++) { const c = s.u8[i]!; t.u8[i] = c & 0x80 ? 0 : d.u8[c & (e.n - 1)]!; }
  copyBytes(d.u8, t.u8, e.n);
};

/** Horizontal pairs: d's pairs then s's pairs, each combined by f. */
function horizontal(lane: 'i16' | 'i32', f: (a: number, b: number) => number): Op {
  return (d, s, e) => {
    const t = e.t, half = e.n / (lane === 'i16' ? 2 : 4) / 2;
    for (let i = 0; i < half; i++) {
      t[lane][i] = f(d[lane][2 * i]!, d[lane][2 * i + 1]!);
      t[lane][half + i] = f(s[lane][2 * i]!, s[lane][2 * i + 1]!);
    }
    copyBytes(d.u8, t.u8, e.n);
  };
}

/** PMADDUBSW: unsigned bytes of d times signed bytes of s, adjacent products summed with saturation. */
const pmaddubsw: Op = (d, s, e) => {
  for (let i = 0; i < e.n / 2; i++) {
    d.i16[i] = satI16(d.u8[2 * i]! * s.i8[2 * i]! + d.u8[2 * i + 1]! * s.i8[2 * i + 1]!);
  }
};

const sign = (a: number, b: number): number => (b < 0 ? -a : b === 0 ? 0 : a);

function abs(lane: 'i8' | 'i16' | 'i32', unsigned: 'u8' | 'u16' | 'u32'): Op {
  return (d, s, e) => {
    const w = lane === 'i8' ? 1 : lane === 'i16' ? 2 : 4;
    for (let i = 0; i < e.n / w; i++) d[unsigned][i] = Math.abs(s[lane][i]!);
  };
}

/** PALIGNR: (d:s) shifted right by imm8 bytes, the low n bytes kept. */
const palignr: Op = (d, s, e) => {
  const t = e.t, n = e.n;
  for (let i = 0; i < n; i++) {
    const k = i + e.imm;
    t.u8[i] = k < n ? s.u8[k]! : k < 2 * n ? d.u8[k - n]! : 0;
  }
  copyBytes(d.u8, t.u8, n);
};

defPair(2, 0x00, 'pshufb', pshufb);
defPair(2, 0x01, 'phaddw', horizontal('i16', (a, b) => a + b));
defPair(2, 0x02, 'phaddd', horizontal('i32', (a, b) => a + b));
defPair(2, 0x03, 'phaddsw', horizontal('i16', (a, b) => satI16(a + b)));
defPair(2, 0x04, 'pmaddubsw', pmaddubsw);
defPair(2, 0x05, 'phsubw', horizontal('i16', (a, b) => a - b));
defPair(2, 0x06, 'phsubd', horizontal('i32', (a, b) => a - b));
defPair(2, 0x07, 'phsubsw', horizontal('i16', (a, b) => satI16(a - b)));
defPair(2, 0x08, 'psignb', lanewise('i8', sign));
defPair(2, 0x09, 'psignw', lanewise('i16', sign));
defPair(2, 0x0a, 'psignd', lanewise('i32', sign));
defPair(2, 0x0b, 'pmulhrsw', lanewise('i16', (a, b) => (((a * b) >> 14) + 1) >> 1));
defPair(2, 0x1c, 'pabsb', abs('i8', 'u8'));
defPair(2, 0x1d, 'pabsw', abs('i16', 'u16'));
defPair(2, 0x1e, 'pabsd', abs('i32', 'u32'));
defPair(3, 0x0f, 'palignr', palignr);
