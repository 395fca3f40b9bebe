/**
 * Which blocks a hot block's function takes in (block-compile.ts compileRegion): the blocks of
 * its page that it reaches through Jcc and JMP rel, and those reach in turn, that ran often
 * enough to have shown the engine their types. Why: three quarters of the block-to-block steps
 * of a Linux boot are a Jcc to a block of the same page (P5, measured), and each step through the
 * run loop costs a lookup, a call and the registers stored and loaded again; inside one function
 * a step is a jump. A block that ran little is left out: code the engine has never seen run
 * would be compiled as a deoptimisation, and the region's compile time grows with its size.
 *
 * 64-bit code only: there RIP is the linear address (no CS base or limit to check for a block
 * entered from inside the function).
 *
 * Off unless TSVISOR_SOFT_REGIONS=1: measured not to pay on this host's engine (Node 20, V8
 * 11.3). Its optimising compiler spends ~1 ms per guest instruction of a block function
 * (~1.3-1.9 ms in a region's, twice that where a region's loop also gets an on-stack-replacement
 * compile), so the Linux boot's extra compile time (TurboFan total 6.7 s -> 12-26 s
 * in the boot's first 45 s, with 4 to 16 blocks per region) cancels the run-loop steps saved:
 * CPU to `Run /init` 37-42 s with regions and 37-42 s without (alternated runs), no difference
 * beyond this host's noise; the vCPU thread's own CPU did not drop either (26.1 s without, 27.0 s
 * with, P5 bench), though regions cut the calls of compiled code from 117 M to 47 M. A multi-block loop alone (soft-region's first loop, 2 M passes) runs 5-35%
 * faster in regions.
 */
import type { Block } from './cpu.js';
import { directBranch } from './block-compile.js';

/** Whether new CPUs build regions (cpu.ts SoftCpu.regions). */
export let REGIONS = typeof process !== 'undefined' && process.env['TSVISOR_SOFT_REGIONS'] === '1';

/** Sets REGIONS for CPUs made from now on (tests). */
export function setRegions(on: boolean): void {
  REGIONS = on;
}

/** Most blocks and instructions in one region (compile time grows with its size). */
const MAX_BLOCKS = 8;
const MAX_INSNS = 128;

/** The region of entry (entry first), or undefined when it would be entry alone. */
export function regionOf(entry: Block, minRuns: number): Block[] | undefined {
  if (entry.mode !== 64) return undefined;
  const blocks = [entry], seen = new Set([entry.off]);
  let insns = entry.insns.length;
  for (let j = 0; j < blocks.length && blocks.length < MAX_BLOCKS; j++) {
    for (const t of branchTargets(blocks[j]!)) {
      if (seen.has(t)) continue;
      seen.add(t);
      const b = entry.page.get(t);
      if (b === undefined || b.mode !== 64 || b.fn !== undefined || b.runs < minRuns || insns + b.insns.length > MAX_INSNS) continue;
      blocks.push(b);
      insns += b.insns.length;
      if (blocks.length === MAX_BLOCKS) break;
    }
  }
  return blocks.length > 1 ? blocks : undefined;
}

/** Page offsets a block's last instruction may go on at, when it is a Jcc or JMP rel. */
function branchTargets(b: Block): number[] {
  const insn = b.insns[b.insns.length - 1]!, kind = directBranch(insn);
  if (kind === undefined || insn.opSize !== 8) return [];
  const end = b.off + b.bytes, target = end + (insn.imm | 0);
  return kind === 'jmp' ? [target] : [target, end];
}
