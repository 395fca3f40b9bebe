/**
 * Decimal adjust instructions, valid outside 64-bit mode: DAA DAS AAA AAS AAM AAD
 * (27 2F 37 3F D4 D5). Flags per the SDM; its "undefined" ones follow undefined-flags.ts.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { AF, ARITH_FLAGS, CF, OF, X86Fault } from './context.js';
import { advance } from './address.js';
import { szp } from './flags.js';
import { on } from './table.js';
import { asciiAdjustFlags, decimalAdjustOf } from './undefined-flags.js';

function setAl(ctx: ExecContext, v: number): void {
  ctx.regs[0] = (ctx.regs[0] & ~0xff) | (v & 0xff);
}

/** 27 DAA, 2F DAS. */
function decimalAdjust(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode === 64) return false;
  const das = insn.opcode === 0x2f;
  const oldAl = ctx.regs[0] & 0xff, oldCf = ctx.flags & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || (ctx.flags & AF)) {
    al = das ? al - 6 : al + 6;
    cf = oldCf | (das ? (oldAl < 6 ? 1 : 0) : (al > 0xff ? 1 : 0));
    al &= 0xff;
    af = AF;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (das ? al - 0x60 : al + 0x60) & 0xff;
    cf = 1;
  }
  setAl(ctx, al);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | szp(al, 0, 1) | af | cf | decimalAdjustOf(das, oldAl, al);
  advance(ctx, insn);
  return true;
}

/** 37 AAA, 3F AAS. */
function asciiAdjust(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode === 64) return false;
  const aas = insn.opcode === 0x3f;
  const ax0 = ctx.regs[0] & 0xffff;
  const adjust = (ax0 & 0x0f) > 9 || (ctx.flags & AF) !== 0;
  // Current SDM (and hardware): AAA adds 106H to AX; AAS subtracts 6 from AX, then 1 from AH.
  const delta = adjust ? 0x106 : 0;
  const sum = (aas ? ax0 - delta : ax0 + delta) & 0xffff;
  ctx.regs[0] = (ctx.regs[0] & ~0xffff) | (sum & 0xff0f);
  ctx.flags = (ctx.flags & ~ARITH_FLAGS) | (adjust ? AF | CF : 0) | asciiAdjustFlags(aas, ax0, delta, sum);
  advance(ctx, insn);
  return true;
}

/** D4 ib AAM: AH = AL / imm, AL = AL % imm (#DE on 0). D5 ib AAD: AL = AH * imm + AL, AH = 0. */
function asciiMulDiv(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode === 64) return false;
  const base = insn.imm & 0xff, al = ctx.regs[0] & 0xff, ah = (ctx.regs[0] >> 8) & 0xff;
  let res: number;
  if (insn.opcode === 0xd4) {
    if (base === 0) throw new X86Fault(0, undefined, 'aam with base 0');
    res = al % base;
    ctx.regs[0] = (ctx.regs[0] & ~0xffff) | ((Math.floor(al / base) & 0xff) << 8) | res;
    ctx.flags = (ctx.flags & ~ARITH_FLAGS) | szp(res, 0, 1); // undefined CF OF AF: 0 on AMD
  } else {
    const sum = al + ((ah * base) & 0xff);
    res = sum & 0xff;
    ctx.regs[0] = (ctx.regs[0] & ~0xffff) | res;
    // AAD's undefined CF/OF/AF: hardware computes them as the 8-bit ADD al + ah*imm.
    const f = szp(res, 0, 1) | (sum > 0xff ? CF : 0) | ((al ^ (ah * base) ^ res) & AF)
      | ((~(al ^ (ah * base)) & (al ^ res) & 0x80) ? OF : 0);
    ctx.flags = (ctx.flags & ~ARITH_FLAGS) | f;
  }
  advance(ctx, insn);
  return true;
}

on(0, [0x27, 0x2f], decimalAdjust);
on(0, [0x37, 0x3f], asciiAdjust);
on(0, [0xd4, 0xd5], asciiMulDiv);
