/**
 * The dispatch table: one handler per (opcode map, opcode). Group opcodes dispatch on ModRM.reg
 * inside their handler. A handler returns false for a form it does not implement (execute()
 * then reports the instruction as not handled, with nothing changed).
 *
 * LOCK legality is data too: LOCK_REGS[index] is the set of ModRM.reg values (bit n = /n) for
 * which a LOCK prefix is allowed with a memory destination; anything else raises #UD.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { VmmError } from '../../api/errors.js';

export type Handler = (ctx: ExecContext, insn: Instruction) => boolean;

export const MAP_SIZE = 256;
export const HANDLERS: (Handler | undefined)[] = new Array(4 * MAP_SIZE).fill(undefined);
export const LOCK_REGS = new Uint8Array(4 * MAP_SIZE);

/** Installs handler for each listed opcode of a map. */
export function on(map: number, opcodes: number | readonly number[], handler: Handler): void {
  for (const op of typeof opcodes === 'number' ? [opcodes] : opcodes) {
    if (HANDLERS[map * MAP_SIZE + op] !== undefined) {
      throw new VmmError('EEXIST', `exec table: opcode ${map}:${op.toString(16)} registered twice`);
    }
    HANDLERS[map * MAP_SIZE + op] = handler;
  }
}

/** Marks opcodes as lockable for the ModRM.reg values in regMask (0xff: every form). */
export function lockable(map: number, opcodes: readonly number[], regMask = 0xff): void {
  for (const op of opcodes) LOCK_REGS[map * MAP_SIZE + op] = regMask;
}

/** opcodes lo..hi inclusive. */
export function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}

/** A read-modify-write of memory that must be atomic: a LOCK prefix, or XCHG with a memory operand (implicitly locked). */
export function isLocked(insn: Instruction): boolean {
  return insn.lock || (insn.map === 0 && (insn.opcode === 0x86 || insn.opcode === 0x87) && insn.mod !== 3);
}

/** LOCK CMPXCHG16B (0F C7 /1 with REX.W): a 16-byte read-modify-write. */
export function isWideLocked(insn: Instruction): boolean {
  return insn.map === 1 && insn.opcode === 0xc7 && (insn.rex & 8) !== 0;
}
