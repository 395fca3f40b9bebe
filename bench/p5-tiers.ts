/**
 * P5_TIERS (bench/p5-boot-inthread.ts): how a boot's instructions split between the soft CPU's
 * tiers, counted by a probe from outside src/. It wraps SoftCpu's block builder so that each new
 * block's `fn` is an accessor: a compiled function stored there is wrapped to count its calls
 * and the instructions they retire. The accessor makes every step of the run loop slower, so
 * read the counts, not the time, of a boot run with it.
 *
 * - compiled: calls of compiled block functions and the instructions they retired (a decline
 *   retires the instructions before the declined one; the run loop runs that one; a call that
 *   throws counts what it retired before the fault).
 * - cold: a block's runs through its records or closures (Block.runs counts them until it is
 *   compiled) times its length: an upper bound, as a run can end early (a fault, a decline).
 * - after compiling: compiled blocks by the decade of their calls since compiling, with the
 *   instructions they retired (how much each compile bought).
 */
import { SoftCpu, type Block } from '../src/backends/soft/cpu.js';

export interface TierCounts {
  blocksBuilt: number;
  blocksCompiled: number;
  compiledCalls: number;
  compiledInstructions: number;
  coldRuns: number;
  coldInstructionsAtMost: number;
  /** By decade of calls since compiling (index d: 10^d <= calls < 10^(d+1); 0 also holds 0). */
  afterCompiling: { blocks: number; instructions: number }[];
}

interface Counted { calls: number; retired: number }

/** Installs the probe; snapshot() returns the counts so far. */
export function installTierProbe(): { snapshot: () => TierCounts } {
  const blocks: Block[] = [];
  const counted = new Map<Block, Counted>();
  const build = SoftCpu.prototype['buildBlock'] as (this: SoftCpu, off: number) => Block;
  SoftCpu.prototype['buildBlock'] = function (this: SoftCpu, off: number): Block {
    const b = build.call(this, off);
    blocks.push(b);
    let fn = b.fn;
    Object.defineProperty(b, 'fn', {
      get: () => fn,
      set: (f: Block['fn']) => {
        if (f === undefined) { fn = undefined; return; }
        const c: Counted = { calls: 0, retired: 0 };
        counted.set(b, c);
        // What a call retired: what it added to instret (its finally adds its count however it
        // ends), and on a decline (r < 0) the -r - 1 instructions the run loop's settleDecline adds.
        fn = (cpu, budget, label) => {
          const before = cpu.instret;
          let r = 0;
          try {
            r = f(cpu, budget, label);
            return r;
          } finally {
            c.calls++;
            c.retired += cpu.instret - before + (r < 0 ? -r - 1 : 0);
          }
        };
      },
    });
    return b;
  };
  const snapshot = (): TierCounts => {
    const t: TierCounts = {
      blocksBuilt: blocks.length, blocksCompiled: counted.size, compiledCalls: 0, compiledInstructions: 0,
      coldRuns: 0, coldInstructionsAtMost: 0, afterCompiling: [],
    };
    for (const b of blocks) { t.coldRuns += b.runs; t.coldInstructionsAtMost += b.runs * b.count; }
    for (const c of counted.values()) {
      t.compiledCalls += c.calls;
      t.compiledInstructions += c.retired;
      const d = c.calls < 10 ? 0 : Math.floor(Math.log10(c.calls));
      while (t.afterCompiling.length <= d) t.afterCompiling.push({ blocks: 0, instructions: 0 });
      t.afterCompiling[d]!.blocks++;
      t.afterCompiling[d]!.instructions += c.retired;
    }
    return t;
  };
  return { snapshot };
}
