/**
 * Flag instructions: CLC STC CMC CLD STD (F8 F9 F5 FC FD), LAHF/SAHF (9F/9E). CLI/STI depend on
 * IOPL/CPL/VME and interrupt shadows: the runner's.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { AF, CF, DF, PF, SF, ZF } from './context.js';
import { advance } from './address.js';
import { on } from './table.js';

/** The SF ZF AF PF CF bits LAHF/SAHF move, with bit 1 (always 1). */
const LAHF_MASK = SF | ZF | AF | PF | CF;

function flagOp(ctx: ExecContext, insn: Instruction): boolean {
  switch (insn.opcode) {
    case 0xf8: ctx.flags &= ~CF; break;
    case 0xf9: ctx.flags |= CF; break;
    case 0xf5: ctx.flags ^= CF; break;
    case 0xfc: ctx.flags &= ~DF; break;
    default: ctx.flags |= DF; break; // FD
  }
  advance(ctx, insn);
  return true;
}

/** 9F LAHF: AH = SF ZF 0 AF 0 PF 1 CF. */
function lahf(ctx: ExecContext, insn: Instruction): boolean {
  ctx.regs[0] = (ctx.regs[0] & ~0xff00) | (((ctx.flags & LAHF_MASK) | 2) << 8);
  advance(ctx, insn);
  return true;
}

/** 9E SAHF: SF ZF AF PF CF = AH. */
function sahf(ctx: ExecContext, insn: Instruction): boolean {
  const ah = (ctx.regs[0] >> 8) & 0xff;
  ctx.flags = (ctx.flags & ~LAHF_MASK) | (ah & LAHF_MASK);
  advance(ctx, insn);
  return true;
}

on(0, [0xf8, 0xf9, 0xf5, 0xfc, 0xfd], flagOp);
on(0, 0x9f, lahf);
on(0, 0x9e, sahf);
