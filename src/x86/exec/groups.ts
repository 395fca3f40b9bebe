/**
 * Opcodes whose ModRM.reg selects among instructions implemented in different modules:
 * group 3 (F6/F7), group 4 (FE), group 5 (FF).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { group3Unary, incDecRm } from './ops-arith.js';
import { callIndirect, jmpIndirect } from './ops-control.js';
import { divAcc, mulAcc } from './ops-muldiv.js';
import { pushRm } from './ops-stack.js';
import { lockable, on } from './table.js';

/** F6/F7: /0 /1 TEST, /2 NOT, /3 NEG, /4 MUL, /5 IMUL, /6 DIV, /7 IDIV. */
function group3(ctx: ExecContext, insn: Instruction): boolean {
  const sub = insn.reg & 7;
  if (sub < 4) return group3Unary(ctx, insn);
  return sub < 6 ? mulAcc(ctx, insn) : divAcc(ctx, insn);
}

/** FE: /0 INC r/m8, /1 DEC r/m8. */
function group4(ctx: ExecContext, insn: Instruction): boolean {
  return (insn.reg & 7) < 2 ? incDecRm(ctx, insn) : false;
}

/** FF: /0 INC, /1 DEC, /2 CALL near, /4 JMP near, /6 PUSH; far CALL/JMP (/3 /5) are the runner's. */
function group5(ctx: ExecContext, insn: Instruction): boolean {
  switch (insn.reg & 7) {
    case 0: case 1: return incDecRm(ctx, insn);
    case 2: return callIndirect(ctx, insn);
    case 4: return jmpIndirect(ctx, insn);
    case 6: return pushRm(ctx, insn);
    default: return false;
  }
}

on(0, [0xf6, 0xf7], group3);
lockable(0, [0xf6, 0xf7], 0x0c);
on(0, 0xfe, group4);
on(0, 0xff, group5);
lockable(0, [0xfe, 0xff], 0x03);
