/**
 * SSE4.2 packed string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (66 0F 3A 60-63), every
 * imm8 mode (SDM vol. 2 "PCMPxSTRx"): source format imm[1:0] (unsigned/signed bytes/words),
 * aggregation imm[3:2] (equal any, ranges, equal each, equal ordered), polarity imm[5:4], and
 * imm[6] (STRI: most- vs least-significant index; STRM: byte/word mask vs bit mask).
 * Lengths: explicit from rAX/rDX (absolute value, saturated), or implicit at the first zero.
 * Flags: CF = result != 0, ZF = src2 shorter than a register, SF = src1 shorter, OF = result
 * bit 0, AF = PF = 0. STRI writes ECX; STRM writes XMM0. The memory operand may be unaligned.
 */
import { AF, ARITH_FLAGS, CF, OF, PF, SF, ZF } from '../exec/context.js';
import { def, P66 } from './form.js';
import type { Op, OpEnv } from './form.js';
import { signedReg, writeReg32 } from './implicit.js';
import type { Vec } from './vec.js';

void AF; void PF; // cleared along with the other arithmetic flags

function elements(v: Vec, words: boolean, signed: boolean): Int8Array | Uint8Array | Int16Array | Uint16Array {
  return words ? (signed ? v.i16 : v.u16) : signed ? v.i8 : v.u8;
}

function implicitLength(a: ArrayLike<number>, n: number): number {
  for (let i = 0; i < n; i++) if (a[i] === 0) return i;
  return n;
}

function explicitLength(e: OpEnv, reg: number, n: number): number {
  const v = Math.abs(signedReg(e.ctx, reg, e.wide));
  return v > n ? n : v;
}

/** The compare result IntRes2 (bit per element) and the two lengths. */
function compare(d: Vec, s: Vec, e: OpEnv, explicit: boolean): { res: number; len1: number; len2: number; n: number } {
  const imm = e.imm, words = (imm & 1) !== 0, signed = (imm & 2) !== 0, n = words ? 8 : 16;
  const a = elements(d, words, signed), b = elements(s, words, signed);
  const len1 = explicit ? explicitLength(e, 0, n) : implicitLength(a, n);
  const len2 = explicit ? explicitLength(e, 2, n) : implicitLength(b, n);
  let res = 0;
  switch ((imm >> 2) & 3) {
    case 0: // equal any: is b[j] one of a's valid elements?
      for (let j = 0; j < len2; j++) {
        for (let i = 0; i < len1; i++) if (a[i] === b[j]) { res |= 1 << j; break; }
      }
      break;
    case 1: // ranges: a holds [lo, hi] pairs
      for (let j = 0; j < len2; j++) {
        for (let i = 0; i + 1 < len1; i += 2) if (a[i]! <= b[j]! && b[j]! <= a[i + 1]!) { res |= 1 << j; break; }
      }
      break;
    case 2: // equal each: both invalid counts as equal, one invalid as different
      for (let i = 0; i < n; i++) {
        const va = i < len1, vb = i < len2;
        if (va && vb ? a[i] === b[i] : !va && !vb) res |= 1 << i;
      }
      break;
    default: // equal ordered: does a (as a substring) start at b[j]? Invalid a elements match anything.
      for (let j = 0; j < n; j++) {
        let ok = true;
        for (let i = 0; i < n - j && ok; i++) {
          const k = j + i;
          if (i >= len1) break;
          ok = k < len2 && a[i] === b[k];
        }
        if (ok) res |= 1 << j;
      }
  }
  const all = (1 << n) - 1;
  switch ((imm >> 4) & 3) {
    case 1: res ^= all; break;
    case 3: res ^= (1 << len2) - 1; break;
    default:
  }
  return { res, len1, len2, n };
}

function setFlags(e: OpEnv, res: number, len1: number, len2: number, n: number): void {
  e.ctx.flags = (e.ctx.flags & ~ARITH_FLAGS) | (res !== 0 ? CF : 0) | (len2 < n ? ZF : 0) |
    (len1 < n ? SF : 0) | (res & 1 ? OF : 0);
}

function stri(explicit: boolean): Op {
  return (d, s, e) => {
    const { res, len1, len2, n } = compare(d, s, e, explicit);
    let index = n;
    if (res !== 0) index = e.imm & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
    writeReg32(e.ctx, 1, index);
    setFlags(e, res, len1, len2, n);
  };
}

function strm(explicit: boolean): Op {
  return (d, s, e) => {
    const { res, len1, len2, n } = compare(d, s, e, explicit);
    const x = e.ctx.xmm[0]!;
    x.fill(0);
    if (e.imm & 0x40) {
      const w = n === 8 ? 2 : 1;
      for (let i = 0; i < n; i++) if ((res >> i) & 1) x.fill(0xff, i * w, i * w + w);
    } else {
      x[0] = res & 0xff; x[1] = res >>> 8;
    }
    setFlags(e, res, len1, len2, n);
  };
}

def(3, 0x60, P66, 'pcmpestrm Vx,Wx', strm(true), { unaligned: true, noWrite: true });
def(3, 0x61, P66, 'pcmpestri Vx,Wx', stri(true), { unaligned: true, noWrite: true });
def(3, 0x62, P66, 'pcmpistrm Vx,Wx', strm(false), { unaligned: true, noWrite: true });
def(3, 0x63, P66, 'pcmpistri Vx,Wx', stri(false), { unaligned: true, noWrite: true });
