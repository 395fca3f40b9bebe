/**
 * The instruction executor: `execute(ctx, insn)` runs one decoded general-purpose integer
 * instruction over an ExecContext (the soft CPU, or the assists' one-instruction emulator).
 *
 * On entry ctx RIP is the instruction's address; on success RIP is the next instruction or
 * the branch target and it returns true. It returns false, changing nothing, for instructions
 * it does not implement (system, I/O, x87/SSE, far transfers, segment loads: the runner's).
 * Faults throw X86Fault; memory accesses precede register commits so a throwing access leaves
 * the registers and flags as they were (REP string ops: as of the last completed iteration).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault } from './context.js';
import { HANDLERS, LOCK_REGS, MAP_SIZE } from './table.js';
import './ops-arith.js';
import './ops-atomic.js';
import './ops-bcd.js';
import './ops-bit.js';
import './ops-carry-chain.js';
import './ops-control.js';
import './ops-flags.js';
import './ops-move.js';
import './ops-muldiv.js';
import './ops-shift.js';
import './ops-stack.js';
import './ops-string.js';
import './groups.js';

export function execute(ctx: ExecContext, insn: Instruction): boolean {
  if (insn.vex !== 0) return false;
  const index = insn.map * MAP_SIZE + insn.opcode;
  const handler = HANDLERS[index];
  if (handler === undefined) return false;
  if (insn.lock && (insn.mod === 3 || !insn.hasModrm || (LOCK_REGS[index] & (1 << (insn.reg & 7))) === 0)) {
    throw new X86Fault(6, undefined, `lock prefix not allowed on ${insn.mnemonic}`);
  }
  return handler(ctx, insn);
}

/** Whether execute() has a handler for this opcode (some handlers still decline sub-forms). */
export function hasHandler(insn: Instruction): boolean {
  return insn.vex === 0 && HANDLERS[insn.map * MAP_SIZE + insn.opcode] !== undefined;
}

export type { ExecContext } from './context.js';
export { X86Fault, RIP_LO } from './context.js';
export { effectiveAddress, wrapAddress, pairToAddress, advance } from './address.js';
export { condition, PARITY } from './flags.js';
