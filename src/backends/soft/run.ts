/**
 * The soft CPU's run loop: fetch (decoded-instruction cache) -> execute (src/x86/exec, then the
 * system layer) -> retire, a straight-line block at a time (cpu.ts fetchBlock/nextBlock: each
 * instruction compiled once by src/x86/exec/compile.ts; a hot block runs as one generated
 * function, block-compile.ts), one instruction at a time while events, windows or TF are
 * watched; with event delivery (injected exceptions, NMIs, interrupts; STI/MOV
 * SS shadows), interrupt/NMI windows, HLT, and the exits. A stop request (an Atomics flag in a
 * SharedArrayBuffer, so another thread can set it) is polled after every slice: at most
 * RUN_SLICE instructions and REP_SLICE string iterations (a REP instruction retires once however
 * many iterations it runs, so instructions alone do not bound the work of a slice).
 *
 * TSC determinism: the TSC is tscOffset + instructions retired (cpu.instret), so a guest run
 * twice from the same state reads the same TSC values.
 */
import type { ExitState, VmExit } from '../../api/types.js';
import { execute } from '../../x86/exec/index.js';
import { IF as IF_, TF as TF_, X86Fault } from '../../x86/exec/context.js';
import type { Instruction } from '../../x86/instruction.js';
import { takeTprExit } from './control-regs.js';
import type { Block, SoftCpu } from './cpu.js';
import type { PendingEvent } from './state.js';
import { compileBlock, compileRegion, settleDecline, settleRegionDecline, stoppedAt } from './block-compile.js';
import { regionOf } from './region.js';
import { compileWasmBlock } from './wasm/block-wasm.js';
import { CHAIN_SETTLE } from './wasm/chain.js';
import { deliverEvent, HAS_ERROR_CODE, SRC_EXCEPTION, SRC_EXTERNAL } from './exceptions.js';
import { ExitSignal, MemoryExitSignal, type ExitWithoutState } from './signals.js';
import { executeSystem } from './system.js';
import { coldOut, runCold } from './cold-code.js';
import { allClosures, closureAt } from './block-closures.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const IF = IF_, TF = TF_;

/** DR6.BS: the #DB was a single-step trap. */
const DR6_BS = 1 << 14;

/** Instructions between two polls of the stop flag. */
export let RUN_SLICE = 1 << 16;

/** REP string iterations between two polls of the stop flag (see ExecContext.repBudget). */
export const REP_SLICE = 1 << 15;

/** Sets the stop-poll interval (tests use small slices to bound fuzzed runs). */
export function setRunSlice(n: number): void {
  RUN_SLICE = n;
}

export function exitState(cpu: SoftCpu): ExitState {
  return {
    rflags: BigInt(cpu.flags >>> 0),
    cr8: BigInt(cpu.cr8),
    intShadow: cpu.intShadow,
    intWindowExiting: cpu.intWindowExiting,
    nmiWindowExiting: cpu.nmiWindowExiting,
    evtPending: cpu.pending.length > 0,
  };
}

function withState(cpu: SoftCpu, exit: ExitWithoutState): VmExit {
  // Every exit object is fresh (built where it is raised) and gets here once: completed in place,
  // as an object spread of these many exit shapes cost half of an IN/OUT exit round trip.
  const out = exit as VmExit;
  out.exitState = exitState(cpu);
  return out;
}

/**
 * Delivers what can be delivered now, or returns the window exit the VMM asked for.
 * Order as on hardware: exceptions, NMI, external interrupts.
 */
function serviceEvents(cpu: SoftCpu): ExitWithoutState | undefined {
  const shadow = cpu.intShadow;
  const intOk = (cpu.flagBits & IF) !== 0 && !shadow;
  const nmiOk = !cpu.nmiBlocked && !shadow;
  const pending = cpu.pending;
  for (let k = 0; k < pending.length; k++) {
    const ev = pending[k]!;
    if (ev.kind === 'exception') {
      pending.splice(k, 1);
      // The frame has an error code exactly for the vectors whose exceptions push one.
      deliverEvent(cpu, ev.vector, HAS_ERROR_CODE.has(ev.vector) ? ev.errorCode ?? 0 : undefined, SRC_EXCEPTION);
      return undefined;
    }
  }
  for (let k = 0; k < pending.length; k++) {
    const ev = pending[k]!;
    if (ev.kind === 'nmi' && nmiOk) {
      pending.splice(k, 1);
      deliverEvent(cpu, 2, undefined, SRC_EXTERNAL);
      cpu.nmiBlocked = true;
      return undefined;
    }
  }
  // Window exits are one-shot, as on NVMM and the KVM backend: reporting one clears the request.
  if (cpu.nmiWindowExiting && nmiOk) {
    cpu.nmiWindowExiting = false;
    return { reason: 'nmi-ready' };
  }
  // A requested window is reported before a held interrupt goes in (as the KVM backend does), so
  // the VMM sees the window it asked for; the interrupt is delivered at the next run().
  if (cpu.intWindowExiting && intOk) {
    cpu.intWindowExiting = false;
    return { reason: 'int-ready' };
  }
  for (let k = 0; k < pending.length; k++) {
    const ev = pending[k]!;
    if (ev.kind === 'interrupt' && intOk) {
      pending.splice(k, 1);
      deliverEvent(cpu, ev.vector, undefined, SRC_EXTERNAL);
      return undefined;
    }
  }
  return undefined;
}

/**
 * Runs until an exit. maxInstructions (RunLimit): once exactly that many instructions have
 * retired the run ends with a 'stopped' exit, as if stop() had been called then.
 */
export function runCpu(cpu: SoftCpu, stopFlag: Int32Array, maxInstructions = Infinity): VmExit {
  // Guest faults travel as X86Fault (an Error): capturing a host stack trace for each would
  // dominate fault-heavy guests, and says nothing about the guest. Off while the guest runs.
  const traceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    // The exit is completed here, not in runLoop: the exit objects come in many shapes, and a
    // new one at a store inlined into runLoop deoptimised it (then recompiled on-stack, ~40 ms
    // of compiler time each), where this small caller recompiles cheaply.
    return withState(cpu, runLoop(cpu, stopFlag, maxInstructions));
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
}

/**
 * The run, slice by slice: the stop flag and the limit, events and windows, a halt, watched
 * single steps; runBlocks runs the blocks of each slice. The two are apart so that the engine
 * compiles the block loop on its own: a path the loop had not taken yet when it was compiled
 * (the first stop, halt, window or watched step of a boot) deoptimised the whole of it, block
 * dispatch included, each time (~15 recompiles of ~18 ms per boot, `node --trace-opt`).
 */
function runLoop(cpu: SoftCpu, stopFlag: Int32Array, maxInstructions: number): ExitWithoutState {
  // The host may have rewritten guest RAM since the last run: decoded code is re-validated.
  cpu.beginRun();
  const limit = cpu.instret + maxInstructions;
  for (;;) {
    if (Atomics.load(stopFlag, 0) !== 0 || cpu.instret >= limit || cpu.faultsInARow >= FAULT_LOOP) {
      Atomics.store(stopFlag, 0, 0);
      cpu.faultsInARow = 0;
      return { reason: 'stopped' };
    }
    cpu.repBudget = REP_SLICE;
    // A shared machine: other threads' vCPUs may have cached or written code since the last slice.
    cpu.syncCode();
    let insn: Instruction | undefined;
    let stopBits = TF;
    try {
      if (cpu.pending.length !== 0 || cpu.intWindowExiting || cpu.nmiWindowExiting) {
        const windowExit = serviceEvents(cpu);
        if (windowExit) return windowExit;
      }
      if (cpu.halted) {
        // Nothing could wake it: report the halt; the next run resumes after HLT.
        cpu.halted = false;
        return { reason: 'halted' };
      }
      // With events, windows or single-stepping (TF) to watch, go one instruction at a time. A
      // pending interrupt or an interrupt window with IF = 0 cannot be acted on until an
      // instruction sets IF: blocks run meanwhile, and stop as soon as IF is set (stopBits).
      const ifOn = (cpu.flagBits & IF) !== 0;
      const waitsForIf = !ifOn && (cpu.intWindowExiting || cpu.pending.length !== 0);
      const watch = (cpu.flagBits & TF) !== 0 || cpu.nmiWindowExiting ||
        (waitsForIf ? !onlyInterrupts(cpu.pending) : cpu.intWindowExiting || cpu.pending.length !== 0);
      if (waitsForIf) stopBits = TF | IF;
      if (watch) {
        const stepping = (cpu.flagBits & TF) !== 0;
        if (cpu.intShadow) cpu.intShadow = false;
        insn = cpu.fetch();
        if (!execute(cpu, insn)) executeSystem(cpu, insn);
        cpu.instret++;
        if (cpu.pendingTprExit) takeTprExit(cpu);
        if (stepping) {
          // TF was set when the instruction started: a single-step #DB trap after it.
          cpu.dr6 |= DR6_BS;
          deliverEvent(cpu, 1, undefined, SRC_EXCEPTION);
        }
        continue;
      }
    } catch (e) {
      const exit = handleThrow(cpu, e, insn);
      if (exit) return exit;
      continue;
    }
    const exit = runBlocks(cpu, limit, stopBits);
    if (exit) return exit;
  }
}

/**
 * One slice of blocks (at most RUN_SLICE instructions, and not past limit), until a block leaves
 * something for the run loop to act on (a halt, a TPR exit, a stop bit in RFLAGS, the REP budget
 * spent). A throw ends the slice through handleThrow: its exit, or undefined to go on.
 */
function runBlocks(cpu: SoftCpu, limit: number, stopBits: number): ExitWithoutState | undefined {
  // A compiled block in progress: a throw from it is at instruction (instret - hotStart) % length.
  let hot: Block | undefined, hotStart = 0;
  // A block running cold (cold-code.ts runCold): a throw from it is at instruction coldOut.at
  // (looked up then, not per instruction: in cold code that load often misses the cache).
  let cold: Block | undefined;
  // One instruction running on its own (runUncompiled without a block), or wasm blocks running
  // chained (runChained): a throw is at ran.insn.
  let uncompiled = false;
  try {
    const blocks = !cpu.interpretOnly;
    // As an int32 (a threshold may be Infinity): compared with a block's runs at every step.
    const compileAt = Math.min(cpu.compileAt, NEVER_COMPILE) | 0;
    // The compiled block that just ran to its end (its successor link is followed).
    let prev: Block | undefined;
    // An int32 budget (limit is a double, Infinity without a RunLimit), kept one by `| 0` where a
    // count is taken off: a double here made the engine convert it at every use, and box it for
    // each block call (settleCompiled's count is a difference of doubles).
    const left = limit - cpu.instret;
    for (let budget = (left < RUN_SLICE ? left : RUN_SLICE) | 0; budget > 0;) {
      if (cpu.intShadow) cpu.intShadow = false;
      const block = !blocks ? undefined : prev === undefined ? cpu.fetchBlock() : cpu.nextBlock(prev);
      if (block !== undefined && block.fn === undefined && ++block.runs >= compileAt) compileHot(cpu, block);
      // A wasm block in 64-bit code (where RIP is the linear address) runs chained (wasm/chain.ts).
      if (block !== undefined && block.wasm !== undefined && block.count <= budget && cpu.mode === 64) {
        uncompiled = true;
        budget = (budget - runChained(cpu, block, budget, stopBits)) | 0;
        prev = ran.next;
        uncompiled = false;
      } else if (block !== undefined && block.fn !== undefined && block.count <= budget) {
        hot = block;
        hotStart = cpu.instret;
        const r = block.fn(cpu, budget, block.label);
        if (r === block.count && block.region === undefined) {
          prev = block;
          budget = (budget - r) | 0;
        } else {
          budget = (budget - settleCompiled(cpu, block, r, hotStart)) | 0;
          prev = ran.next;
        }
        hot = undefined;
      } else {
        cold = block;
        uncompiled = true;
        budget = (budget - runUncompiled(cpu, block, budget)) | 0;
        prev = ran.next;
        cold = undefined;
        uncompiled = false;
      }
      if (cpu.halted || cpu.pendingTprExit || (cpu.flagBits & stopBits) !== 0 || cpu.repBudget <= 0) {
        if (cpu.pendingTprExit) takeTprExit(cpu);
        break;
      }
    }
  } catch (e) {
    return thrownInSlice(cpu, e, hot, hotStart, cold, uncompiled);
  }
  return undefined;
}

/**
 * runBlocks' catch: the instruction that threw, by what was running, and handleThrow's result.
 * Apart so that the loop's catch holds one call, which faults in cold code reach early: written
 * there, the call of hotInsn first ran at a compiled block's first fault, after the engine had
 * compiled the loop (on-stack) without it, and every later fault from a compiled block left
 * that compiled loop again at that call (1,969 deoptimisations to the end of a Linux boot, 212
 * in all after; `node --trace-deopt`).
 */
function thrownInSlice(cpu: SoftCpu, e: unknown, hot: Block | undefined, hotStart: number, cold: Block | undefined, uncompiled: boolean): ExitWithoutState | undefined {
  let insn: Instruction | undefined;
  if (hot !== undefined) insn = hotInsn(cpu, hot, hotStart);
  else if (cold !== undefined) insn = cold.insns[coldOut.at];
  else if (uncompiled) insn = ran.insn;
  return handleThrow(cpu, e, insn);
}

/**
 * Exceptions delivered in a row without an instruction retiring after which run() returns
 * 'stopped' (RunLimit in api/types.ts): ~1 ms of guest time on hardware, far more than any
 * chain of faults a guest makes on purpose (each nested fault is a #DF or a shutdown).
 */
const FAULT_LOOP = 4096;

/** compileAt for a tier that never compiles (Infinity), as an int32 a block's run count stays below. */
const NEVER_COMPILE = 0x3fffffff;

/** What runUncompiled and settleCompiled leave for the run loop. */
const ran: {
  /** The block whose successor link the loop follows next (undefined: fetch the block at RIP). */
  next: Block | undefined;
  /** The instruction runUncompiled ran on its own. */
  insn: Instruction | undefined;
} = { next: undefined, insn: undefined };

// runUncompiled, settleCompiled and compileHot hold what the run loop does other than run a
// compiled block to its end. Written into runLoop, code that had not yet run when the engine
// compiled the loop (the first decline, the first system instruction on the cold path, the
// first compile) deoptimised the whole loop each time it first ran: 20 compiles of the loop
// per boot, 740 ms of TurboFan; with these apart, 13 and 310-480 ms (`node --trace-opt`).

/**
 * Runs block's first budget instructions (at most) through the executor (cold-code.ts runCold,
 * then the system layer for a declined one), or without a block one instruction on its own.
 * Returns the instructions retired.
 */
function runUncompiled(cpu: SoftCpu, block: Block | undefined, budget: number): number {
  ran.next = undefined;
  if (block === undefined) {
    // Cleared first: a fault in the fetch itself has no instruction (the last one must not be named).
    ran.insn = undefined;
    const insn = cpu.fetch();
    ran.insn = insn;
    if (!execute(cpu, insn)) executeSystem(cpu, insn);
    cpu.instret++;
    return 1;
  }
  const count = block.count, n = count < budget ? count : budget;
  let k = runCold(cpu, block, n);
  const declined = coldOut.declined;
  if (declined) {
    executeSystem(cpu, block.insns[k]!);
    cpu.instret++;
    k++;
  }
  // Ran to its end through the executor: its successor may be found through its links.
  if (!declined && k === count) ran.next = block;
  return k;
}

/**
 * A compiled run (begun at instret hotStart) that returned r other than its block's length: a
 * decline (the declined instruction runs here), a loop's whole passes, or a region's run.
 * Returns the instructions retired.
 */
function settleCompiled(cpu: SoftCpu, block: Block, r: number, hotStart: number): number {
  ran.next = undefined;
  const region = block.region;
  if (r < 0) {
    const i = region === undefined ? settleDecline(cpu, block.insns, hotStart, r) : settleRegionDecline(cpu, region, hotStart, r);
    const at = region === undefined ? block : region[cpu.regionAt]!;
    if (!closureAt(at, i)(cpu)) executeSystem(cpu, at.insns[i]!);
    cpu.instret++;
    return cpu.instret - hotStart;
  }
  if (region === undefined) {
    if (r > 0 && r % block.count === 0) ran.next = block;
  } else {
    const last = region[cpu.regionAt]!;
    if (r - cpu.regionKb === last.insns.length) ran.next = last;
  }
  return r;
}

/**
 * Runs a wasm block and the wasm blocks chained after it (block-wasm.ts runChain); returns the
 * instructions retired. A throw names its instruction in ran.insn (the block that was running,
 * at the count it had reached).
 */
function runChained(cpu: SoftCpu, block: Block, budget: number, stopBits: number): number {
  ran.next = undefined;
  ran.insn = undefined;
  const w = cpu.wasm!, start = cpu.instret;
  try {
    // Ended at a block's end: the loop finds the next block by RIP (the chain keeps no Block to link from).
    if (w.runChain(block, budget, stopBits) !== CHAIN_SETTLE) return cpu.instret - start;
    const last = w.lastRun();
    settleCompiled(cpu, last.block!, last.result, start + last.start);
    return cpu.instret - start;
  } catch (e) {
    // As hotInsn: the last block's instruction at the count reached (a declined one's, once settled).
    const { block: at, start: from } = w.lastRun();
    ran.insn = at?.insns[stoppedAt(cpu.instret - start - from, at.count)];
    throw e;
  }
}

/**
 * A block without a function that has run cpu.compileAt times or more (called again at each run
 * until one tier gives it a function): its wasm, region or JS function, by the tiers' thresholds.
 */
function compileHot(cpu: SoftCpu, block: Block): void {
  const runs = block.runs;
  if (runs === cpu.wasmBlockRuns) compileWasmBlock(cpu, block);
  else if (cpu.wasm) cpu.wasm.flushIfDue();
  if (block.fn === undefined && runs === cpu.hotBlockRuns && cpu.regions) compileRegionAt(cpu, block);
  if (block.fn === undefined && runs >= cpu.hotBlockRuns) block.fn = compileBlock(block.insns, allClosures(block));
}

/**
 * Compiles a block that just became hot together with the blocks of its page it branches to
 * that ran often and have no function yet (region.ts), when there are any: each of them runs
 * the region's function from its own entry from then on.
 */
function compileRegionAt(cpu: SoftCpu, block: Block): void {
  const region = regionOf(block, Math.max(1, cpu.hotBlockRuns >> 3));
  if (region === undefined) return;
  const fn = compileRegion(region.map((b) => ({ insns: b.insns, fns: allClosures(b), off: b.off })));
  if (fn === undefined) return;
  region.forEach((b, j) => {
    b.fn = fn;
    b.region = region;
    b.label = j;
  });
}

/** The instruction a compiled block (or region) that began at instret hotStart threw from. */
function hotInsn(cpu: SoftCpu, hot: Block, hotStart: number): Instruction | undefined {
  if (hot.region === undefined) return hot.insns[stoppedAt(cpu.instret - hotStart, hot.insns.length)];
  return hot.region[cpu.regionAt]!.insns[cpu.instret - hotStart - cpu.regionKb];
}

/** Whether every held event is an external interrupt (the kind that waits for IF = 1). */
function onlyInterrupts(pending: readonly PendingEvent[]): boolean {
  for (let k = 0; k < pending.length; k++) if (pending[k]!.kind !== 'interrupt') return false;
  return true;
}

/** Turns what an instruction threw into a delivered fault (undefined) or an exit. */
function handleThrow(cpu: SoftCpu, e: unknown, insn: Instruction | undefined): ExitWithoutState | undefined {
  if (e instanceof X86Fault) {
    try {
      deliverEvent(cpu, e.vector, e.errorCode, SRC_EXCEPTION);
      if (cpu.instret !== cpu.faultsAt) { cpu.faultsAt = cpu.instret; cpu.faultsInARow = 0; }
      cpu.faultsInARow++;
      return undefined;
    } catch (e2) {
      return handleThrow(cpu, e2, undefined);
    }
  }
  if (e instanceof MemoryExitSignal) {
    return {
      reason: 'memory', gpa: e.gpa, write: e.write, size: e.size, prot: e.prot,
      instBytes: insn && e.prot !== 'x' ? cpu.instBytes(insn.length) : new Uint8Array(0),
    };
  }
  if (e instanceof ExitSignal) {
    // MONITOR/MWAIT completed before exiting (RIP is past them): they retire.
    if (e.exit.reason === 'monitor' || e.exit.reason === 'mwait') cpu.instret++;
    return e.exit;
  }
  // A bug in the soft CPU must not take the host down: report it as an invalid exit.
  const err = e as Error;
  return { reason: 'invalid', detail: `soft: internal error ${err?.name ?? ''}: ${err?.message ?? String(e)}${insn ? ` (at '${insn.mnemonic}')` : ''}` };
}
