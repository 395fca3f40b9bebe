/**
 * Hot straight-line blocks (cpu.ts Block) become one JS function that calls the block's compiled
 * instructions (src/x86/exec/compile.ts) in order. The generated text is glue only, the same for
 * every block of a length: the instructions' semantics stay in src/x86/exec. Each block's
 * function is a separate script, so each call inside it sees exactly one compiled instruction
 * and the engine can inline it (one shared loop over fns[k] would be a megamorphic call).
 *
 * Contract of the returned function, run on a CPU whose RIP is the block's start:
 * - it runs instructions in order; cpu.instret counts the retired ones when it returns or throws;
 * - after an instruction that dropped decoded code (cpu.codeGen changed; only instructions that
 *   may write memory can) it stops: returns the number retired;
 * - when instruction k is declined by the executor (a system instruction) it returns -(k + 1)
 *   with instructions 0..k-1 retired and k not run;
 * - a fault thrown by instruction k propagates with 0..k-1 retired (cpu.instret tells k).
 */
import type { Compiled } from '../../x86/exec/compile.js';
import type { Instruction } from '../../x86/instruction.js';
import type { SoftCpu } from './cpu.js';

export type BlockFn = (cpu: SoftCpu) => number;

/** Runs of a block before it is compiled (most code runs a few times; compiling costs ~0.1 ms). */
export const HOT_BLOCK_RUNS = 16;

type Factory = (fns: readonly Compiled[]) => BlockFn;

/** undefined when the host forbids code generation from strings: blocks then run uncompiled. */
export function compileBlock(insns: readonly Instruction[], fns: readonly Compiled[]): BlockFn | undefined {
  if (!codegenAllowed) return undefined;
  const n = fns.length;
  const lines: string[] = [];
  for (let k = 0; k < n; k++) lines.push(`const f${k} = fns[${k}];`);
  // k counts retired instructions in a local; the finally adds it to instret however the block ends.
  lines.push('return function block(cpu) {', '  const g = cpu.codeGen;', '  let k = 0;', '  try {');
  for (let k = 0; k < n; k++) {
    lines.push(`    if (!f${k}(cpu)) return ${-(k + 1)};`, `    k = ${k + 1};`);
    if (k < n - 1 && mayWriteMemory(insns[k]!)) lines.push(`    if (cpu.codeGen !== g) return ${k + 1};`);
  }
  lines.push(`    return ${n};`, '  } finally {', '    cpu.instret += k;', '  }', '};');
  let factory: Factory;
  try {
    factory = new Function('fns', lines.join('\n')) as Factory;
  } catch {
    codegenAllowed = false; // --disallow-code-generation-from-strings
    return undefined;
  }
  return factory(fns);
}

let codegenAllowed = true;

/**
 * Whether an instruction may write guest memory (and so drop decoded code): anything but a
 * register-form ModRM instruction, and FF /6 PUSH r/m pushes even in register form.
 */
function mayWriteMemory(insn: Instruction): boolean {
  return !(insn.hasModrm && insn.mod === 3) || (insn.map === 0 && insn.opcode === 0xff);
}
