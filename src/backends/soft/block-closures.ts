/**
 * The closures that run a block's instructions one at a time (src/x86/exec/compile.ts), made on
 * first use rather than as the block is decoded. Most of a boot's decoded instructions only ever
 * run through their cold records (cold-code.ts), and a closure with its context for each one was
 * ~47 MB of a Linux boot's ~270 MB heap (heap snapshot at `Run /init`): memory the host faults
 * in, the collector marks and the caches hold, for closures nobody calls.
 */
import { compile, type Compiled } from '../../x86/exec/compile.js';
import type { ExecContext } from '../../x86/exec/context.js';
import type { Instruction } from '../../x86/instruction.js';
import { compileVector, vectorRunsInBlock } from '../../x86/sse/index.js';

/** A block's instructions and their closures, filled in as they are needed (index k for insns[k]). */
export interface ClosureSlots {
  readonly insns: readonly Instruction[];
  readonly fns: (Compiled | undefined)[];
}

/** Empty closure slots for n instructions (a packed array: the slots' elements kind never changes). */
export function emptyClosures(n: number): (Compiled | undefined)[] {
  return new Array<Compiled | undefined>(n).fill(undefined);
}

/** The closure of instruction k, made now if it is the first use. */
export function closureAt(b: ClosureSlots, k: number): Compiled {
  return b.fns[k] ?? (b.fns[k] = closureOf(b.insns[k]!));
}

/** Every closure of the block: the block compilers bind them all into the code they make. */
export function allClosures(b: ClosureSlots): readonly Compiled[] {
  for (let k = 0; k < b.insns.length; k++) closureAt(b, k);
  return b.fns as Compiled[];
}

/**
 * An MMX/SSE form's closure is the form's own (src/x86/sse): every runner calls a block's
 * closures with the CPU, which is that form's VectorContext, where a wrapper binding `this` was
 * one more call per run.
 */
function closureOf(insn: Instruction): Compiled {
  return vectorRunsInBlock(insn) ? compileVector(insn) as (ctx: ExecContext) => boolean : compile(insn);
}
