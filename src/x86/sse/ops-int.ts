/**
 * MMX/SSE2 packed integer instructions: add/subtract (wrapping and saturating), multiplies,
 * PMADDWD, PSADBW, averages, min/max, compares, logic (also the PS/PD forms: bitwise the same),
 * pack/unpack, shuffles and the shifts by register and by immediate. Each op covers the MMX
 * form (8 bytes) and the XMM form (16 bytes) through env.n.
 */
import { def, defPair, NP, P66, PF2, PF3 } from './form.js';
import type { Op } from './form.js';
import type { Lane } from './vec.js';
import { copyBytes, LANE_BYTES, satI16, satI8, satU16, satU8 } from './vec.js';
import { addLanes32, andLanes32, andnLanes32, orLanes32, shuffleLanes32, sllLanes32, sraLanes32, srlLanes32, unpackLow32, unpackLow64, xorLanes32 } from './lanes.js';
import type { Vec } from './vec.js';

/**
 * d[i] = f(d[i], s[i]) over lanes of the given type (the typed array wraps the result). One loop
 * per lane type: a shared loop reading d[lane] made every lane load a megamorphic keyed access.
 */
export function lanewise(lane: Lane, f: (a: number, b: number) => number): Op {
  switch (lane) {
    case 'u8': return (d, s, e) => { const a = d.u8, b = s.u8; for (let i = 0, n = e.n; i < n; i++) a[i] = f(a[i]!, b[i]!); };
    case 'i8': return (d, s, e) => { const a = d.i8, b = s.i8; for (let i = 0, n = e.n; i < n; i++) a[i] = f(a[i]!, b[i]!); };
    case 'u16': return (d, s, e) => { const a = d.u16, b = s.u16; for (let i = 0, n = e.n >> 1; i < n; i++) a[i] = f(a[i]!, b[i]!); };
    case 'i16': return (d, s, e) => { const a = d.i16, b = s.i16; for (let i = 0, n = e.n >> 1; i < n; i++) a[i] = f(a[i]!, b[i]!); };
    case 'u32': return (d, s, e) => { const a = d.u32, b = s.u32; for (let i = 0, n = e.n >> 2; i < n; i++) a[i] = f(a[i]!, b[i]!); };
    default: return (d, s, e) => { const a = d.i32, b = s.i32; for (let i = 0, n = e.n >> 2; i < n; i++) a[i] = f(a[i]!, b[i]!); };
  }
}

/** The same over 64-bit lanes (BigInt: these forms are rare enough). */
export function lanewise64(signed: boolean, f: (a: bigint, b: bigint) => bigint): Op {
  return (d, s, e) => {
    const a = signed ? d.i64 : d.u64, b = signed ? s.i64 : s.u64;
    for (let i = 0, n = e.n / 8; i < n; i++) a[i] = BigInt.asUintN(64, f(a[i]!, b[i]!)) as never;
  };
}

const add = (a: number, b: number): number => a + b;
const sub = (a: number, b: number): number => a - b;
const mask = (c: boolean): number => (c ? -1 : 0);

// Add/subtract.
defPair(1, 0xfc, 'paddb', lanewise('u8', add));
defPair(1, 0xfd, 'paddw', lanewise('u16', add));
// PADDD and the logic forms (below) are lanes.ts's helpers, which the soft CPU's fast tiers run
// too (Linux's BLAKE2s); PSUBD is written out over int32 lanes the same way (no shared loop
// calling its op, no boxed sums).
const paddd: Op = (d, s, e) => addLanes32(d.i32, s.i32, e.n >> 2);
const psubd: Op = (d, s, e) => { const a = d.i32, b = s.i32; for (let i = 0, n = e.n >> 2; i < n; i++) a[i] = (a[i]! - b[i]!) | 0; };
defPair(1, 0xfe, 'paddd', paddd);
defPair(1, 0xd4, 'paddq', lanewise64(false, (a, b) => a + b));
defPair(1, 0xf8, 'psubb', lanewise('u8', sub));
defPair(1, 0xf9, 'psubw', lanewise('u16', sub));
defPair(1, 0xfa, 'psubd', psubd);
defPair(1, 0xfb, 'psubq', lanewise64(false, (a, b) => a - b));
defPair(1, 0xec, 'paddsb', lanewise('i8', (a, b) => satI8(a + b)));
defPair(1, 0xed, 'paddsw', lanewise('i16', (a, b) => satI16(a + b)));
defPair(1, 0xdc, 'paddusb', lanewise('u8', (a, b) => satU8(a + b)));
defPair(1, 0xdd, 'paddusw', lanewise('u16', (a, b) => satU16(a + b)));
defPair(1, 0xe8, 'psubsb', lanewise('i8', (a, b) => satI8(a - b)));
defPair(1, 0xe9, 'psubsw', lanewise('i16', (a, b) => satI16(a - b)));
defPair(1, 0xd8, 'psubusb', lanewise('u8', (a, b) => satU8(a - b)));
defPair(1, 0xd9, 'psubusw', lanewise('u16', (a, b) => satU16(a - b)));

// Multiplies.
defPair(1, 0xd5, 'pmullw', lanewise('i16', (a, b) => Math.imul(a, b)));
defPair(1, 0xe5, 'pmulhw', lanewise('i16', (a, b) => (a * b) >> 16));
defPair(1, 0xe4, 'pmulhuw', lanewise('u16', (a, b) => Math.floor((a * b) / 65536)));
/** PMULUDQ: the even unsigned dwords multiplied into full qwords. */
const pmuludq: Op = (d, s, e) => {
  for (let i = 0; i < e.n / 8; i++) d.u64[i] = BigInt(d.u32[2 * i]!) * BigInt(s.u32[2 * i]!);
};
defPair(1, 0xf4, 'pmuludq', pmuludq);
/** PMADDWD: adjacent signed word products summed into dwords (0x8000^2 * 2 wraps to 0x80000000). */
const pmaddwd: Op = (d, s, e) => {
  for (let i = 0; i < e.n / 4; i++) {
    d.i32[i] = d.i16[2 * i]! * s.i16[2 * i]! + d.i16[2 * i + 1]! * s.i16[2 * i + 1]!;
  }
};
defPair(1, 0xf5, 'pmaddwd', pmaddwd);
/** PSADBW: per qword, the sum of absolute byte differences into its low word (rest zero). */
const psadbw: Op = (d, s, e) => {
  for (let q = 0; q < e.n / 8; q++) {
    let sum = 0;
    for (let k = 8 * q; k < 8 * q + 8; k++) sum += Math.abs(d.u8[k]! - s.u8[k]!);
    d.u32[2 * q] = sum; d.u32[2 * q + 1] = 0;
  }
};
defPair(1, 0xf6, 'psadbw', psadbw);
defPair(1, 0xe0, 'pavgb', lanewise('u8', (a, b) => (a + b + 1) >> 1));
defPair(1, 0xe3, 'pavgw', lanewise('u16', (a, b) => (a + b + 1) >> 1));
defPair(1, 0xda, 'pminub', lanewise('u8', Math.min));
defPair(1, 0xde, 'pmaxub', lanewise('u8', Math.max));
defPair(1, 0xea, 'pminsw', lanewise('i16', Math.min));
defPair(1, 0xee, 'pmaxsw', lanewise('i16', Math.max));

// Compares.
defPair(1, 0x74, 'pcmpeqb', lanewise('u8', (a, b) => mask(a === b)));
defPair(1, 0x75, 'pcmpeqw', lanewise('u16', (a, b) => mask(a === b)));
defPair(1, 0x76, 'pcmpeqd', lanewise('u32', (a, b) => mask(a === b)));
defPair(1, 0x64, 'pcmpgtb', lanewise('i8', (a, b) => mask(a > b)));
defPair(1, 0x65, 'pcmpgtw', lanewise('i16', (a, b) => mask(a > b)));
defPair(1, 0x66, 'pcmpgtd', lanewise('i32', (a, b) => mask(a > b)));

// Logic: PAND/PANDN/POR/PXOR and the PS/PD forms, which are the same bitwise operations.
const and: Op = (d, s, e) => andLanes32(d.i32, s.i32, e.n >> 2);
const andn: Op = (d, s, e) => andnLanes32(d.i32, s.i32, e.n >> 2);
const or: Op = (d, s, e) => orLanes32(d.i32, s.i32, e.n >> 2);
const xor: Op = (d, s, e) => xorLanes32(d.i32, s.i32, e.n >> 2);
defPair(1, 0xdb, 'pand', and);
defPair(1, 0xdf, 'pandn', andn);
defPair(1, 0xeb, 'por', or);
defPair(1, 0xef, 'pxor', xor);
for (const [opcode, name, op] of [[0x54, 'and', and], [0x55, 'andn', andn], [0x56, 'or', or], [0x57, 'xor', xor]] as const) {
  def(1, opcode, NP, `${name}ps Vx,Wx`, op);
  def(1, opcode, P66, `${name}pd Vx,Wx`, op);
}

// Pack with saturation: d's lanes then s's lanes, narrowed.
function pack(from: 'i16' | 'i32', to: 'i8' | 'u8' | 'i16' | 'u16', sat: (v: number) => number): Op {
  return (d, s, e) => {
    const t = e.t, half = e.n / LANE_BYTES[from];
    for (let i = 0; i < half; i++) { t[to][i] = sat(d[from][i]!); t[to][half + i] = sat(s[from][i]!); }
    copyBytes(d.u8, t.u8, e.n);
  };
}
defPair(1, 0x63, 'packsswb', pack('i16', 'i8', satI8));
defPair(1, 0x67, 'packuswb', pack('i16', 'u8', satU8));
defPair(1, 0x6b, 'packssdw', pack('i32', 'i16', satI16));

/** Interleaves lanes of w bytes from the low (high = false) or high halves of d and s. */
export function unpack(w: number, high: boolean): Op {
  return (d, s, e) => {
    const t = e.t, count = e.n / w / 2, from = high ? count * w : 0;
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < w; k++) {
        t.u8[2 * i * w + k] = d.u8[from + i * w + k]!;
        t.u8[(2 * i + 1) * w + k] = s.u8[from + i * w + k]!;
      }
    }
    copyBytes(d.u8, t.u8, e.n);
  };
}
const unpackLowDwords: Op = (d, s, e) => unpackLow32(d.i32, s.i32, e.n >> 2);
const unpackLowQwords: Op = (d, s) => unpackLow64(d.i32, s.i32);
// The MMX low unpacks read only 32 bits of memory.
defPair(1, 0x60, 'punpcklbw', unpack(1, false), 'Qd');
defPair(1, 0x61, 'punpcklwd', unpack(2, false), 'Qd');
defPair(1, 0x62, 'punpckldq', unpackLowDwords, 'Qd');
defPair(1, 0x68, 'punpckhbw', unpack(1, true));
defPair(1, 0x69, 'punpckhwd', unpack(2, true));
defPair(1, 0x6a, 'punpckhdq', unpack(4, true));
def(1, 0x6c, P66, 'punpcklqdq Vx,Wx', unpackLowQwords);
def(1, 0x6d, P66, 'punpckhqdq Vx,Wx', unpack(8, true));
def(1, 0x14, NP, 'unpcklps Vx,Wx', unpackLowDwords);
def(1, 0x14, P66, 'unpcklpd Vx,Wx', unpackLowQwords);
def(1, 0x15, NP, 'unpckhps Vx,Wx', unpack(4, true));
def(1, 0x15, P66, 'unpckhpd Vx,Wx', unpack(8, true));

// Shuffles.
function shuffleWords(t: Vec, s: Vec, base: number, imm: number): void {
  for (let i = 0; i < 4; i++) t.u16[base + i] = s.u16[base + ((imm >> (2 * i)) & 3)]!;
}
const pshufw: Op = (d, s, e) => { shuffleWords(e.t, s, 0, e.imm); d.u32[0] = e.t.u32[0]!; d.u32[1] = e.t.u32[1]!; };
const pshufd: Op = (d, s, e) => shuffleLanes32(d.i32, s.i32, e.imm);
const pshuflw: Op = (d, s, e) => { shuffleWords(e.t, s, 0, e.imm); d.u32[0] = e.t.u32[0]!; d.u32[1] = e.t.u32[1]!; d.u32[2] = s.u32[2]!; d.u32[3] = s.u32[3]!; };
const pshufhw: Op = (d, s, e) => { shuffleWords(e.t, s, 4, e.imm); d.u32[0] = s.u32[0]!; d.u32[1] = s.u32[1]!; d.u32[2] = e.t.u32[2]!; d.u32[3] = e.t.u32[3]!; };
def(1, 0x70, NP, 'pshufw Pq,Qq', pshufw);
def(1, 0x70, P66, 'pshufd Vx,Wx', pshufd);
def(1, 0x70, PF3, 'pshufhw Vx,Wx', pshufhw);
def(1, 0x70, PF2, 'pshuflw Vx,Wx', pshuflw);
const shufps: Op = (d, s, e) => {
  const t = e.t, m = e.imm;
  t.u32[0] = d.u32[m & 3]!; t.u32[1] = d.u32[(m >> 2) & 3]!;
  t.u32[2] = s.u32[(m >> 4) & 3]!; t.u32[3] = s.u32[(m >> 6) & 3]!;
  d.copy(t);
};
const shufpd: Op = (d, s, e) => {
  const t = e.t;
  t.u64[0] = d.u64[e.imm & 1]!; t.u64[1] = s.u64[(e.imm >> 1) & 1]!;
  d.copy(t);
};
def(1, 0xc6, NP, 'shufps Vx,Wx', shufps);
def(1, 0xc6, P66, 'shufpd Vx,Wx', shufpd);

// PINSRW/PEXTRW (0F C4/C5).
const pinsrw: Op = (d, s, e) => { d.u16[e.imm & (e.n / 2 - 1)] = s.u16[0]!; };
const pextrw: Op = (d, s, e) => { const v = s.u16[e.imm & (e.n / 2 - 1)]!; d.zero(); d.u32[0] = v; };
def(1, 0xc4, NP, 'pinsrw Pq,Ew', pinsrw);
def(1, 0xc4, P66, 'pinsrw Vx,Ew', pinsrw);
def(1, 0xc5, NP, 'pextrw Gd,Nq', pextrw);
def(1, 0xc5, P66, 'pextrw Gd,Ux', pextrw);

// Shifts. The count (a register's or memory's low qword, or the imm8) is unsigned 64-bit:
// counts past the lane width give 0 (logical) or the sign fill (arithmetic).
type Kind = 'sll' | 'srl' | 'sra';
function shiftLanes(d: Vec, bits: 16 | 32 | 64, kind: Kind, count: number, n: number): void {
  if (bits === 64) {
    const c = BigInt(Math.min(count, 64));
    for (let i = 0; i < n / 8; i++) d.u64[i] = c >= 64n ? 0n : kind === 'sll' ? BigInt.asUintN(64, d.u64[i]! << c) : d.u64[i]! >> c;
    return;
  }
  if (bits === 32) {
    const lanes = n >> 2;
    if (kind === 'sll') sllLanes32(d.i32, lanes, count);
    else if (kind === 'srl') srlLanes32(d.i32, lanes, count);
    else sraLanes32(d.i32, lanes, count);
    return;
  }
  const a = kind === 'sra' ? d.i16 : d.u16;
  const lanes = n / (bits / 8);
  if (count >= bits) {
    for (let i = 0; i < lanes; i++) a[i] = kind === 'sra' ? (a[i]! < 0 ? -1 : 0) : 0;
    return;
  }
  for (let i = 0; i < lanes; i++) {
    const v = a[i]!;
    a[i] = kind === 'sll' ? v << count : kind === 'srl' ? v >>> count : v >> count;
  }
}
/** The 64-bit count from s's low qword, clamped (anything >= 64 behaves the same). */
function regCount(s: Vec): number {
  return s.u32[1] !== 0 ? 64 : Math.min(s.u32[0]!, 64);
}
function byRegister(bits: 16 | 32 | 64, kind: Kind): Op {
  return (d, s, e) => shiftLanes(d, bits, kind, regCount(s), e.n);
}
function byImmediate(bits: 16 | 32 | 64, kind: Kind): Op {
  return (d, _s, e) => shiftLanes(d, bits, kind, e.imm, e.n);
}
defPair(1, 0xd1, 'psrlw', byRegister(16, 'srl'));
defPair(1, 0xd2, 'psrld', byRegister(32, 'srl'));
defPair(1, 0xd3, 'psrlq', byRegister(64, 'srl'));
defPair(1, 0xe1, 'psraw', byRegister(16, 'sra'));
defPair(1, 0xe2, 'psrad', byRegister(32, 'sra'));
defPair(1, 0xf1, 'psllw', byRegister(16, 'sll'));
defPair(1, 0xf2, 'pslld', byRegister(32, 'sll'));
defPair(1, 0xf3, 'psllq', byRegister(64, 'sll'));
// Groups 12-14 (0F 71-73): the register is ModRM.rm, the count the imm8.
const SHIFT_GROUPS: [number, number, string, 16 | 32 | 64, Kind][] = [
  [0x71, 2, 'psrlw', 16, 'srl'], [0x71, 4, 'psraw', 16, 'sra'], [0x71, 6, 'psllw', 16, 'sll'],
  [0x72, 2, 'psrld', 32, 'srl'], [0x72, 4, 'psrad', 32, 'sra'], [0x72, 6, 'pslld', 32, 'sll'],
  [0x73, 2, 'psrlq', 64, 'srl'], [0x73, 6, 'psllq', 64, 'sll'],
];
for (const [opcode, reg, name, bits, kind] of SHIFT_GROUPS) {
  def(1, opcode, NP, `${name} Nq`, byImmediate(bits, kind), { group: reg });
  def(1, opcode, P66, `${name} Ux`, byImmediate(bits, kind), { group: reg });
}
/** PSRLDQ/PSLLDQ: the whole register shifted by imm8 bytes. */
function byteShift(left: boolean): Op {
  return (d, _s, e) => {
    const t = e.t, c = e.imm;
    t.zero();
    for (let i = 0; i < 16; i++) {
      const from = left ? i - c : i + c;
      if (from >= 0 && from < 16) t.u8[i] = d.u8[from]!;
    }
    d.copy(t);
  };
}
def(1, 0x73, P66, 'psrldq Ux', byteShift(false), { group: 3 });
def(1, 0x73, P66, 'pslldq Ux', byteShift(true), { group: 7 });
