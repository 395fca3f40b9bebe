/**
 * SSE4.1 forms other than floating-point arithmetic (all 66-prefixed): PMOVSX/PMOVZX, blends
 * (immediate and XMM0-controlled), the new min/max and multiplies, PTEST, PEXTRx/PINSRx,
 * EXTRACTPS/INSERTPS, PACKUSDW, PCMPEQQ, PHMINPOSUW, MPSADBW; and SSE4.2's PCMPGTQ.
 */
import { ARITH_FLAGS, CF, ZF } from '../exec/context.js';
import { def, P66 } from './form.js';
import type { Op } from './form.js';
import { lanewise, lanewise64 } from './ops-int.js';
import { satU16 } from './vec.js';
import type { Lane } from './vec.js';

/** PMOVSX/PMOVZX: the low lanes of s widened into d. */
function extend(from: Lane, to: 'i16' | 'i32' | 'i64' | 'u16' | 'u32' | 'u64'): Op {
  return (d, s) => {
    const count = to.endsWith('16') ? 8 : to.endsWith('32') ? 4 : 2;
    for (let i = 0; i < count; i++) {
      const v = s[from][i]!;
      if (to === 'i64' || to === 'u64') d[to][i] = BigInt(v) as never;
      else d[to][i] = v;
    }
  };
}
const EXTENDS: [number, string, Lane, 'i16' | 'i32' | 'i64', string][] = [
  [0x20, 'bw', 'i8', 'i16', 'Wq'], [0x21, 'bd', 'i8', 'i32', 'Wd'], [0x22, 'bq', 'i8', 'i64', 'Ww'],
  [0x23, 'wd', 'i16', 'i32', 'Wq'], [0x24, 'wq', 'i16', 'i64', 'Wd'], [0x25, 'dq', 'i32', 'i64', 'Wq'],
];
for (const [opcode, suffix, from, to, src] of EXTENDS) {
  def(2, opcode, P66, `pmovsx${suffix} Vx,${src}`, extend(from, to));
  const uFrom = from.replace('i', 'u') as Lane, uTo = to.replace('i', 'u') as 'u16' | 'u32' | 'u64';
  def(2, opcode + 0x10, P66, `pmovzx${suffix} Vx,${src}`, extend(uFrom, uTo));
}

/** Blends: lane i of d replaced by s's where the selector says so. */
function blendImm(w: number): Op {
  return (d, s, e) => {
    for (let i = 0; i < 16 / w; i++) if ((e.imm >> i) & 1) for (let k = 0; k < w; k++) d.u8[i * w + k] = s.u8[i * w + k]!;
  };
}
function blendXmm0(w: number): Op {
  return (d, s, e) => {
    const m = e.ctx.xmm[0]!;
    for (let i = 0; i < 16 / w; i++) if (m[i * w + w - 1]! & 0x80) for (let k = 0; k < w; k++) d.u8[i * w + k] = s.u8[i * w + k]!;
  };
}
def(3, 0x0c, P66, 'blendps Vx,Wx', blendImm(4));
def(3, 0x0d, P66, 'blendpd Vx,Wx', blendImm(8));
def(3, 0x0e, P66, 'pblendw Vx,Wx', blendImm(2));
def(2, 0x10, P66, 'pblendvb Vx,Wx', blendXmm0(1));
def(2, 0x14, P66, 'blendvps Vx,Wx', blendXmm0(4));
def(2, 0x15, P66, 'blendvpd Vx,Wx', blendXmm0(8));

def(2, 0x38, P66, 'pminsb Vx,Wx', lanewise('i8', Math.min));
def(2, 0x39, P66, 'pminsd Vx,Wx', lanewise('i32', Math.min));
def(2, 0x3a, P66, 'pminuw Vx,Wx', lanewise('u16', Math.min));
def(2, 0x3b, P66, 'pminud Vx,Wx', lanewise('u32', Math.min));
def(2, 0x3c, P66, 'pmaxsb Vx,Wx', lanewise('i8', Math.max));
def(2, 0x3d, P66, 'pmaxsd Vx,Wx', lanewise('i32', Math.max));
def(2, 0x3e, P66, 'pmaxuw Vx,Wx', lanewise('u16', Math.max));
def(2, 0x3f, P66, 'pmaxud Vx,Wx', lanewise('u32', Math.max));
def(2, 0x40, P66, 'pmulld Vx,Wx', lanewise('i32', (a, b) => Math.imul(a, b)));
const pmuldq: Op = (d, s) => {
  for (let i = 0; i < 2; i++) d.i64[i] = BigInt(d.i32[2 * i]!) * BigInt(s.i32[2 * i]!);
};
def(2, 0x28, P66, 'pmuldq Vx,Wx', pmuldq);
def(2, 0x29, P66, 'pcmpeqq Vx,Wx', lanewise64(false, (a, b) => (a === b ? -1n : 0n)));
def(2, 0x37, P66, 'pcmpgtq Vx,Wx', lanewise64(true, (a, b) => (a > b ? -1n : 0n)));
const packusdw: Op = (d, s, e) => {
  const t = e.t;
  for (let i = 0; i < 4; i++) { t.u16[i] = satU16(d.i32[i]!); t.u16[4 + i] = satU16(s.i32[i]!); }
  d.copy(t);
};
def(2, 0x2b, P66, 'packusdw Vx,Wx', packusdw);

/** PTEST: ZF = (d AND s) == 0, CF = (NOT d AND s) == 0; AF OF PF SF cleared. */
const ptest: Op = (d, s, e) => {
  let and = 0, andn = 0;
  for (let i = 0; i < 4; i++) { and |= d.u32[i]! & s.u32[i]!; andn |= ~d.u32[i]! & s.u32[i]!; }
  e.ctx.flags = (e.ctx.flags & ~ARITH_FLAGS) | (and === 0 ? ZF : 0) | (andn === 0 ? CF : 0);
};
def(2, 0x17, P66, 'ptest Vx,Wx', ptest, { noWrite: true });

/** PHMINPOSUW: the smallest unsigned word and its (lowest) index; the rest zeroed. */
const phminposuw: Op = (d, s) => {
  let min = s.u16[0]!, at = 0;
  for (let i = 1; i < 8; i++) if (s.u16[i]! < min) { min = s.u16[i]!; at = i; }
  d.zero();
  d.u16[0] = min; d.u16[1] = at;
};
def(2, 0x41, P66, 'phminposuw Vx,Wx', phminposuw);

/** MPSADBW: eight sums of absolute differences of 4-byte windows of d against one 4-byte block of s. */
const mpsadbw: Op = (d, s, e) => {
  const t = e.t, dOff = e.imm & 4, sOff = (e.imm & 3) * 4;
  for (let i = 0; i < 8; i++) {
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += Math.abs(d.u8[dOff + i + k]! - s.u8[sOff + k]!);
    t.u16[i] = sum;
  }
  d.copy(t);
};
def(3, 0x42, P66, 'mpsadbw Vx,Wx', mpsadbw);

// Extracts: the selected lane into a GPR (zero-extended) or memory of the lane's size.
function extract(lane: 'u8' | 'u16' | 'u32', count: number): Op {
  return (d, s, e) => { const v = s[lane][e.imm & (count - 1)]!; d.zero(); d.u32[0] = v; };
}
const pextrdq: Op = (d, s, e) => {
  d.zero();
  if (e.wide) d.u64[0] = s.u64[e.imm & 1]!;
  else d.u32[0] = s.u32[e.imm & 3]!;
};
def(3, 0x14, P66, 'pextrb Eb,Vx', extract('u8', 16));
def(3, 0x15, P66, 'pextrw Ew,Vx', extract('u16', 8));
def(3, 0x16, P66, 'pextrd Ey,Vx', pextrdq);
def(3, 0x17, P66, 'extractps Ed,Vx', extract('u32', 4));

// Inserts.
const pinsrb: Op = (d, s, e) => { d.u8[e.imm & 15] = s.u8[0]!; };
const pinsrdq: Op = (d, s, e) => {
  if (e.wide) d.u64[e.imm & 1] = s.u64[0]!;
  else d.u32[e.imm & 3] = s.u32[0]!;
};
/** INSERTPS: a dword (selected by imm[7:6] from a register, or the m32) into lane imm[5:4], then zero mask imm[3:0]. */
const insertps: Op = (d, s, e) => {
  d.u32[(e.imm >> 4) & 3] = e.mem ? s.u32[0]! : s.u32[(e.imm >> 6) & 3]!;
  for (let i = 0; i < 4; i++) if ((e.imm >> i) & 1) d.u32[i] = 0;
};
def(3, 0x20, P66, 'pinsrb Vx,Eb', pinsrb);
def(3, 0x21, P66, 'insertps Vx,Wd', insertps);
def(3, 0x22, P66, 'pinsrd Vx,Ey', pinsrdq);
