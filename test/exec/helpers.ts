/** Helpers for the executor unit tests: decode hex in the context's mode and execute it. */
import { decode } from '../../src/x86/decoder/index.js';
import { execute } from '../../src/x86/exec/index.js';
import type { Instruction } from '../../src/x86/instruction.js';
import { FlatContext } from './flat-context.js';

export const BASE = 0x1000;

export function insnOf(hex: string, mode: 16 | 32 | 64): Instruction {
  const bytes = Uint8Array.from(hex.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));
  return decode(bytes, mode);
}

/** Decodes hex in ctx.mode and executes it; returns execute()'s result. */
export function step(ctx: FlatContext, hex: string): boolean {
  return execute(ctx, insnOf(hex, ctx.mode));
}

/** A context with 64 KiB of zeroed memory at BASE, in the given mode (stack size to match). */
export function context(mode: 16 | 32 | 64 = 64): FlatContext {
  const ctx = new FlatContext(new Uint8Array(0x10000), BASE);
  ctx.mode = mode;
  ctx.stackSize = mode === 64 ? 8 : mode === 32 ? 4 : 2;
  ctx.rip = 0x100n;
  return ctx;
}

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

/** A snapshot of registers and flags, to check that a faulting instruction changed nothing. */
export function snapshot(ctx: FlatContext): string {
  return `${Array.from(ctx.regs).join(',')}|${ctx.flags}`;
}
