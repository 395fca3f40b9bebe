/**
 * SSE/SSE2/SSE3/MMX data movement: full-register moves (aligned and unaligned, non-temporal),
 * scalar and half-register moves, MOVD/MOVQ in all their forms, MOVQ2DQ/MOVDQ2Q, the
 * duplicating loads of SSE3, MOVMSKPS/PD, PMOVMSKB and the masked stores MASKMOVQ/MASKMOVDQU.
 * Non-temporal hints change nothing in a model without caches.
 */
import { X86Fault } from '../exec/context.js';
import { addressOf } from './implicit.js';
import { def, NP, P66, PF2, PF3 } from './form.js';
import type { Op } from './form.js';
import { moveLanes32, zeroExtendLanes32 } from './lanes.js';

/** The whole source (register or memory). */
const copy: Op = (d, s) => moveLanes32(d.i32, s.i32);
/** The low dword into the destination; a load from memory zeroes the rest (MOVSS). */
const low32: Op = (d, s, e) => { if (e.mem && isLoad(e.opcode)) d.zero(); d.u32[0] = s.u32[0]!; };
/** The low qword into the destination; a load from memory zeroes the rest (MOVSD). */
const low64: Op = (d, s, e) => {
  if (e.mem && isLoad(e.opcode)) d.zero();
  d.u32[0] = s.u32[0]!; d.u32[1] = s.u32[1]!;
};
/** 0F 10 is the load direction of MOVSS/MOVSD; 0F 11 the store (which never zeroes). */
function isLoad(opcode: number): boolean { return opcode === 0x10; }
/** The source's low qword, the rest zeroed (MOVQ xmm forms, MOVQ2DQ, MOVD/MOVQ from a GPR). */
const zeroExtend: Op = (d, s) => zeroExtendLanes32(d.i32, s.i32[0]!, s.i32[1]!);
/** The low qword of the destination from the source's low qword (MOVLPS/MOVLPD loads). */
const setLow: Op = (d, s) => { d.u32[0] = s.u32[0]!; d.u32[1] = s.u32[1]!; };
/** The high qword of the destination from the source's low qword (MOVHPS/MOVHPD loads, MOVLHPS). */
const setHigh: Op = (d, s) => { d.u32[2] = s.u32[0]!; d.u32[3] = s.u32[1]!; };
/** The low qword of the destination from the source's high qword (MOVHLPS, MOVHPS/MOVHPD stores). */
const highToLow: Op = (d, s) => { d.u32[0] = s.u32[2]!; d.u32[1] = s.u32[3]!; };

const movsldup: Op = (d, s) => { d.u32[0] = d.u32[1] = s.u32[0]!; d.u32[2] = d.u32[3] = s.u32[2]!; };
const movshdup: Op = (d, s) => { d.u32[0] = d.u32[1] = s.u32[1]!; d.u32[2] = d.u32[3] = s.u32[3]!; };
const movddup: Op = (d, s) => { d.u32[0] = d.u32[2] = s.u32[0]!; d.u32[1] = d.u32[3] = s.u32[1]!; };

/** MOVMSKPS/MOVMSKPD/PMOVMSKB: the sign bit of each lane into a GPR. */
function signMask(laneBytes: number): Op {
  return (d, s, e) => {
    let m = 0;
    for (let i = 0, k = 0; i < e.n; i += laneBytes, k++) if (s.u8[i + laneBytes - 1]! & 0x80) m |= 1 << k;
    d.zero();
    d.u32[0] = m;
  };
}

/** MASKMOVQ/MASKMOVDQU: bytes of d whose mask byte in s has its top bit set go to DS:rDI. */
const maskmov: Op = (d, s, e) => {
  const { ctx, insn } = e;
  if (insn.mod !== 3) throw new X86Fault(6, undefined, 'maskmov: needs a register mask');
  const { seg, addr } = addressOf(ctx, insn, 7, 3);
  for (let i = 0; i < e.n; i++) if (s.u8[i]! & 0x80) ctx.write(seg, addr + i, 1, d.u8[i]!, 0);
};

// 0F 10-17: MOVUPS/UPD, MOVSS/SD, MOVLPS/LPD, MOVHLPS, MOVLHPS, MOVHPS/HPD, MOVSLDUP, MOVSHDUP, MOVDDUP.
def(1, 0x10, NP, 'movups Vx,Wx', copy, { unaligned: true });
def(1, 0x10, P66, 'movupd Vx,Wx', copy, { unaligned: true });
def(1, 0x10, PF3, 'movss Vx,Wd', low32);
def(1, 0x10, PF2, 'movsd Vx,Wq', low64);
def(1, 0x11, NP, 'movups Wx,Vx', copy, { unaligned: true });
def(1, 0x11, P66, 'movupd Wx,Vx', copy, { unaligned: true });
def(1, 0x11, PF3, 'movss Wd,Vx', low32);
def(1, 0x11, PF2, 'movsd Wq,Vx', low64);
def(1, 0x12, NP, 'movhlps Vx,Ux', highToLow);
def(1, 0x12, NP, 'movlps Vx,Mq', setLow);
def(1, 0x12, P66, 'movlpd Vx,Mq', setLow);
def(1, 0x12, PF3, 'movsldup Vx,Wx', movsldup);
def(1, 0x12, PF2, 'movddup Vx,Wq', movddup);
def(1, 0x13, NP, 'movlps Mq,Vx', copy);
def(1, 0x13, P66, 'movlpd Mq,Vx', copy);
def(1, 0x16, NP, 'movlhps Vx,Ux', setHigh);
def(1, 0x16, NP, 'movhps Vx,Mq', setHigh);
def(1, 0x16, P66, 'movhpd Vx,Mq', setHigh);
def(1, 0x16, PF3, 'movshdup Vx,Wx', movshdup);
def(1, 0x17, NP, 'movhps Mq,Vx', highToLow);
def(1, 0x17, P66, 'movhpd Mq,Vx', highToLow);

// 0F 28/29/2B: MOVAPS/APD, MOVNTPS/PD.
def(1, 0x28, NP, 'movaps Vx,Wx', copy);
def(1, 0x28, P66, 'movapd Vx,Wx', copy);
def(1, 0x29, NP, 'movaps Wx,Vx', copy);
def(1, 0x29, P66, 'movapd Wx,Vx', copy);
def(1, 0x2b, NP, 'movntps Mx,Vx', copy);
def(1, 0x2b, P66, 'movntpd Mx,Vx', copy);

// 0F 50, D7: sign masks.
def(1, 0x50, NP, 'movmskps Gd,Ux', signMask(4));
def(1, 0x50, P66, 'movmskpd Gd,Ux', signMask(8));
def(1, 0xd7, NP, 'pmovmskb Gd,Nq', signMask(1));
def(1, 0xd7, P66, 'pmovmskb Gd,Ux', signMask(1));

// 0F 6E/7E: MOVD/MOVQ between GPR/memory and MMX/XMM (REX.W: 64 bits).
def(1, 0x6e, NP, 'movd Pq,Ey', zeroExtend);
def(1, 0x6e, P66, 'movd Vx,Ey', zeroExtend);
def(1, 0x7e, NP, 'movd Ey,Pq', zeroExtend, { n: 8 });
def(1, 0x7e, P66, 'movd Ey,Vx', zeroExtend);
def(1, 0x7e, PF3, 'movq Vx,Wq', zeroExtend);
// 0F 6F/7F: MOVQ mm, MOVDQA, MOVDQU.
def(1, 0x6f, NP, 'movq Pq,Qq', copy);
def(1, 0x6f, P66, 'movdqa Vx,Wx', copy);
def(1, 0x6f, PF3, 'movdqu Vx,Wx', copy, { unaligned: true });
def(1, 0x7f, NP, 'movq Qq,Pq', copy);
def(1, 0x7f, P66, 'movdqa Wx,Vx', copy);
def(1, 0x7f, PF3, 'movdqu Wx,Vx', copy, { unaligned: true });
// 0F D6: MOVQ xmm store (register form zeroes the upper half), MOVQ2DQ, MOVDQ2Q.
def(1, 0xd6, P66, 'movq Wq,Vx', zeroExtend);
def(1, 0xd6, PF3, 'movq2dq Vx,Nq', zeroExtend);
def(1, 0xd6, PF2, 'movdq2q Pq,Ux', copy);

// Non-temporal stores, LDDQU, MOVNTDQA (0F 38 2A), MOVNTI (0F C3, no vector state).
def(1, 0xe7, NP, 'movntq Mq,Pq', copy);
def(1, 0xe7, P66, 'movntdq Mx,Vx', copy);
def(1, 0xf0, PF2, 'lddqu Vx,Mx', copy, { unaligned: true });
def(2, 0x2a, P66, 'movntdqa Vx,Mx', copy);
def(1, 0xc3, NP, 'movnti My,Gy', copy);

// 0F F7: masked byte stores to DS:rDI.
def(1, 0xf7, NP, 'maskmovq Pq,Nq', maskmov, { noWrite: true });
def(1, 0xf7, P66, 'maskmovdqu Vx,Ux', maskmov, { noWrite: true });
