/**
 * assistMem: emulates the instruction that caused a memory (MMIO) exit.
 *
 * 1. Instruction bytes: exit.instBytes when the backend supplied them (and they decode), else
 *    fetched at CS:RIP through the MMU walker.
 * 2. Decode with src/x86/decoder, execute with src/x86/exec over an EmulContext (registers from
 *    one getState(GPRS|SEGS); CR/MSR state only read if a page walk is needed).
 * 3. Memory: single-operand instructions (DIRECT_MNEMONICS) go straight to the handler at the
 *    exit's GPA; string instructions and anything else are routed per access (RAM or handler),
 *    so MOVS between MMIO and RAM works. REP runs at most MEM_REP_BUDGET iterations per call;
 *    if rCX is not 0 then, RIP stays and the guest re-executes (exits again) as on hardware.
 *    x87 (D8-DF), SSE/MMX, FXSAVE/FXRSTOR, XSAVE/XSAVEOPT/XRSTOR and LDMXCSR/STMXCSR run through
 *    the same layers as on the soft CPU (src/x86/x87-exec, src/x86/sse) over the same EmulContext, which then also
 *    holds the fpu group and CR0/CR4 (one more getState, for those instructions only): their
 *    #UD/#NM/#MF checks, alignment #GP, MXCSR flags and #XM are those layers'. Operands wider
 *    than 8 bytes reach the handler as ascending pieces of 8 bytes, the rest 4, 2, 1
 *    (emul-context.ts); MASKMOVQ/MASKMOVDQU write their selected bytes one byte at a time.
 *    FCS/FDS (x87 selectors, not in the API state) read as the current CS and DS selectors
 *    (x87-platform.ts) and their updates are not kept. Which instructions: fpu-insns.ts.
 * 4. The registers that changed (and RFLAGS, and the fpu fields that changed) are written back
 *    in one setState; RIP advances.
 * An exception raised by the instruction (a #PF on its RAM operand, #GP, #UD...) throws
 * AssistFault with vector/errorCode/cr2; the iterations of a REP already done are committed.
 * An instruction the executor does not implement throws VmmError 'ENOTSUP' showing its bytes.
 * An instruction that does not access the exit's GPA through the handler (the guest state no
 * longer matches the exit, or the exit was not this instruction's) throws VmmError 'EFAULT' naming
 * both, with the registers left as they were: never a silent return without a handler call.
 *
 * Exits with backendCompletes and data (KVM: its in-kernel emulator finishes the instruction on
 * the next run): one handler call on exit.data (filled for a read), nothing else: no state
 * access, no decode. The emulator path above serves backends that leave the instruction to the
 * caller (as NVMM does; the soft backend's memory exits): the instruction is then complete when
 * this returns, which satisfies the same rule (complete by the next run()).
 */
import { State, type MemHandler, type VmExit } from '../../api/types.js';
import { VmmError, hex } from '../../api/errors.js';
import { decode } from '../decoder/index.js';
import { execute } from '../exec/index.js';
import { X86Fault } from '../exec/context.js';
import type { Instruction } from '../instruction.js';
import type { GuestCpu } from '../mmu/guest-cpu.js';
import { AssistFault } from './assist-fault.js';
import { changedRegs, codeModeOf, cplOf, loadRegs, stateOf } from './cpu-view.js';
import { EmulContext } from './emul-context.js';
import { fpuRunOf } from './fpu-insns.js';
import { GuestLinear } from './guest-linear.js';
import type { CompletedByBackend } from './io.js';

export const MEM_REP_BUDGET = 4096;

/** One reusable context (the assist is synchronous; a handler that re-enters gets its own). */
const shared = new EmulContext();

/** Instructions whose only memory access is their one memory operand (read and/or write). */
const DIRECT_MNEMONICS = new Set([
  'mov', 'movzx', 'movsx', 'movsxd', 'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'xchg',
  'inc', 'dec', 'not', 'neg', 'xadd', 'cmpxchg', 'bt', 'bts', 'btr', 'btc', 'rol', 'ror', 'rcl', 'rcr', 'shl', 'sal',
  'shr', 'sar', 'shld', 'shrd', 'mul', 'imul', 'div', 'idiv', 'bsf', 'bsr', 'popcnt',
]);

const showBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

function decodeAt(exit: Extract<VmExit, { reason: 'memory' }>, lin: GuestLinear, rip: number): Instruction {
  if (exit.instBytes.length > 0) {
    try {
      return decode(exit.instBytes, lin.mode);
    } catch (e) {
      if (!(e instanceof VmmError && e.code === 'EFAULT')) throw e;   // truncated: fetch the rest
    }
  }
  return decode(lin.fetch(rip), lin.mode);
}

export function assistMem(cpu: GuestCpu, exit: VmExit, handler: MemHandler): void {
  if (exit.reason !== 'memory') throw new VmmError('EINVAL', `assistMem needs a 'memory' exit, got '${exit.reason}'`);
  const done = exit as CompletedByBackend;
  if (done.backendCompletes && done.data) {
    if (done.data.length !== exit.size) throw new VmmError('EINVAL', `memory exit data is ${done.data.length} bytes for a ${exit.size}-byte access`);
    handler({ gpa: exit.gpa, write: exit.write, size: exit.size, data: done.data });
    return;
  }
  const { gprs, segs } = stateOf(cpu, State.GPRS | State.SEGS, ['gprs', 'segs']);
  const mode = codeModeOf(segs);
  const lin = new GuestLinear(cpu, gprs, segs, mode, cplOf(segs));
  const rip = Number(mode === 64 ? BigInt.asIntN(64, gprs.rip) : gprs.rip & 0xffffffffn);
  const insn = decodeAt(exit, lin, rip);
  const ctx = (shared.busy ? new EmulContext() : shared).reset(lin, segs, handler, MEM_REP_BUDGET, exit.gpa);
  loadRegs(gprs, ctx.regs);
  ctx.before.set(ctx.regs);
  const flagsBefore = Number(gprs.rflags & 0xffffffffn) | 0;
  ctx.flags = flagsBefore;
  if (insn.mem && insn.rep === 0 && DIRECT_MNEMONICS.has(insn.mnemonic)) ctx.directGpa = exit.gpa;
  const runFpu = fpuRunOf(insn);
  if (runFpu) {
    const st = stateOf(cpu, State.FPU | State.CRS, ['fpu', 'crs']);
    ctx.fpuLoaded.load(ctx, st.fpu, st.crs, segs, mode);
  }
  let failure: unknown;
  let handled = false;
  ctx.busy = true;
  try {
    handled = runFpu ? runFpu(ctx, insn) : execute(ctx, insn);
  } catch (e) {
    failure = e instanceof X86Fault ? new AssistFault('EFAULT', `${e.message} (emulating '${insn.mnemonic}' at RIP ${hex(rip)})`, e.vector, e.errorCode) : e;
  } finally {
    ctx.busy = false;
  }
  if (!handled && failure === undefined) {
    throw new VmmError('ENOTSUP', `assistMem: '${insn.mnemonic}' (${showBytes(exit.instBytes.length ? exit.instBytes.subarray(0, insn.length) : lin.fetch(rip, insn.length))}) at RIP ${hex(rip)} is not emulated`);
  }
  if (failure === undefined && !ctx.exitGpaAccessed) {
    throw new VmmError('EFAULT', `assistMem: '${insn.mnemonic}' at RIP ${hex(rip)} does not access guest-physical ${hex(exit.gpa)} ` +
      `(the exit's ${exit.size}-byte ${exit.write ? 'write' : 'read'}): the exit does not come from this instruction; registers left unchanged`);
  }
  const out = changedRegs(ctx.before, ctx.regs);
  if ((ctx.flags | 0) !== flagsBefore) out.rflags = (gprs.rflags & ~0xffffffffn) | BigInt(ctx.flags >>> 0);
  const fpu = ctx.fpuLoaded.changes(ctx);
  const hasGprs = Object.keys(out).length > 0;
  if (hasGprs || fpu) {
    cpu.setState({ ...(hasGprs ? { gprs: out } : {}), ...(fpu ? { fpu } : {}) }, (hasGprs ? State.GPRS : 0) | (fpu ? State.FPU : 0));
  }
  if (failure !== undefined) throw failure;
}
