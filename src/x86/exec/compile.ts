/**
 * Decode-time specialisation: compile(insn) resolves once what execute() looks up on every
 * run (the table dispatch, the LOCK legality check) and returns a function of the context
 * alone, which a caller that caches decoded code (the soft CPU) keeps next to the instruction.
 * The semantics stay in the handlers: a compiled instruction calls the same code as execute().
 *
 * endsBlock(insn) tells a block-building caller where straight-line execution may end: after
 * a near branch, POPF (TF/IF may change), a REP string op (it may stop early with RIP on
 * itself), or anything execute() does not handle (the caller's system layer may change modes).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault } from './context.js';
import { HANDLERS, LOCK_REGS, MAP_SIZE, isLocked, isWideLocked, type Handler } from './table.js';
import { specialise } from './specialise.js';
import './index.js';

/** Runs the instruction as execute() would; false: not handled, nothing changed. */
export type Compiled = (ctx: ExecContext) => boolean;

const declined: Compiled = () => false;

export function compile(insn: Instruction): Compiled {
  if (insn.vex !== 0) return declined;
  const index = insn.map * MAP_SIZE + insn.opcode;
  const handler = HANDLERS[index];
  if (handler === undefined) return declined;
  if (insn.lock && (insn.mod === 3 || !insn.hasModrm || (LOCK_REGS[index] & (1 << (insn.reg & 7))) === 0)) {
    return () => { throw new X86Fault(6, undefined, `lock prefix not allowed on ${insn.mnemonic}`); };
  }
  const fn = specialise(insn) ?? bind(handler, insn);
  return isLocked(insn) ? lockedForm(fn, isWideLocked(insn)) : fn;
}

/** A locked instruction goes through the context's atomically() where it has one. */
function lockedForm(fn: Compiled, wide: boolean): Compiled {
  return (ctx) => ctx.atomically === undefined ? fn(ctx) : ctx.atomically(fn, wide);
}

/**
 * handler bound to insn. Each handler gets its own closure factory (a distinct function, made
 * once per handler) so the call inside stays monomorphic and the engine can inline the handler:
 * one shared `(ctx) => handler(ctx, insn)` would see every handler at one call site.
 */
type Binder = (handler: Handler, insn: Instruction) => Compiled;
const binders = new Map<Handler, Binder>();
function bind(handler: Handler, insn: Instruction): Compiled {
  let b = binders.get(handler);
  if (b === undefined) {
    try {
      b = new Function('handler', 'insn', 'return (ctx) => handler(ctx, insn);') as Binder;
    } catch {
      // Code generation from strings disallowed (--disallow-code-generation-from-strings):
      // one shared closure, correct but megamorphic.
      b = (h, i) => (ctx) => h(ctx, i);
    }
    binders.set(handler, b);
  }
  return b(handler, insn);
}

/** Opcodes of map 0 after which RIP may not be the next instruction (or the modes may change). */
const BRANCH0 = new Set([0x9d, 0xc2, 0xc3, 0xe0, 0xe1, 0xe2, 0xe3, 0xe8, 0xe9, 0xeb]);

export function endsBlock(insn: Instruction): boolean {
  if (insn.vex !== 0 || HANDLERS[insn.map * MAP_SIZE + insn.opcode] === undefined) return true;
  const op = insn.opcode;
  if (insn.map === 1) return op >= 0x80 && op <= 0x8f;
  if (insn.map !== 0) return false;
  if ((op >= 0x70 && op <= 0x7f) || BRANCH0.has(op)) return true;
  if (op === 0xff) return (insn.reg & 7) >= 2 && (insn.reg & 7) <= 5;
  // String ops under REP may stop on themselves (repBudget) and resume later.
  return insn.rep !== 0 && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf));
}
