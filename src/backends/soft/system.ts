/**
 * The system-instruction layer of the soft CPU: everything src/x86/exec leaves to the runner
 * (execute() returned false), dispatched by mnemonic. MMX/SSE forms go to src/x86/sse, x87 forms
 * to src/x86/x87-exec (through x87.ts). Instructions the modelled CPU lacks raise #UD; what
 * exists but is not implemented (call gates, task switches, virtual-8086 mode) produces an
 * 'invalid' exit that names it.
 */
import type { Instruction } from '../../x86/instruction.js';
import { X86Fault } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';
import { clts, lmsw, movFromCr, movFromDr, movToCr, movToDr, smsw } from './control-regs.js';
import { cpuid, cpuidValues, L7_EDX_SERIALIZE, NOT_OFFERED } from './cpuid.js';
import { lar, lgdt, lidt, lldt, lsl, ltr, sgdt, sidt, sldt, str, verr, verw } from './descriptor-tables.js';
import { callFar, int1, int3, intN, into, iret, jmpFar, retFar } from './far-transfer.js';
import { fsGsBase, swapgs, syscall, sysenter, sysexit, sysret } from './fast-syscall.js';
import { cli, hlt, popf, pushf, sti } from './flags-insns.js';
import { fwait, fxrstor, fxsave, ldmxcsr, noOp, stmxcsr } from './fpu.js';
import { inOut, insOuts } from './io.js';
import { rdmsr, rdtsc, wrmsr } from './msr.js';
import { executeVector, VECTOR_MNEMONICS } from '../../x86/sse/index.js';
import { arpl, loadFarPointer, movFromSreg, movToSreg, popSreg, pushSreg } from './segment-insns.js';
import { ExitSignal, MemoryExitSignal } from './signals.js';
import { executeX87 } from './x87.js';
import { isX87 } from '../../x86/x87-exec/index.js';
import { xgetbv, xrstor, xsave, xsaveopt, xsetbv } from './xsave.js';
import { advance, memAddress, requireCpl0, ud, type SystemHandler } from './system-common.js';

function invlpg(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  const a = memAddress(cpu, insn);
  const seg = insn.mem!.seg;
  const lin = cpu.mode === 64 ? (seg >= 4 ? a + cpu.segBase[seg]! : a) : (cpu.segBase[seg]! + a) >>> 0;
  cpu.tlb.flushPage(Math.floor(lin / 4096));
  cpu.resetFetch();
  advance(cpu, insn);
}

/** MONITOR/MWAIT: exits for the VMM; RIP moves past them (MWAIT then behaves as a NOP on resume). */
function monitorExit(reason: 'monitor' | 'mwait'): SystemHandler {
  return (cpu, insn) => {
    requireCpl0(cpu, insn);
    advance(cpu, insn);
    throw new ExitSignal({ reason });
  };
}

function privilegedNoOp(cpu: SoftCpu, insn: Instruction): void {
  requireCpl0(cpu, insn);
  advance(cpu, insn);
}

function clflush(cpu: SoftCpu, insn: Instruction): void {
  // Checked like a byte read (#PF/#GP as the hardware raises them), then nothing to flush. It
  // reads no data: a line of MMIO (the walk succeeded, then found no RAM) is no memory exit.
  try {
    cpu.read(insn.mem!.seg, memAddress(cpu, insn), 1);
  } catch (e) {
    if (!(e instanceof MemoryExitSignal)) throw e;
  }
  advance(cpu, insn);
}

/**
 * SERIALIZE: this CPU finishes each instruction, its memory accesses included, before it fetches
 * the next, and sees a write to code at once, so there is nothing to wait for. #UD where the
 * VMM's CPUID masks hide it, as on a CPU without it.
 */
function serialize(cpu: SoftCpu, insn: Instruction): void {
  if (!(cpuidValues(cpu, 7, 0)[3]! & L7_EDX_SERIALIZE)) throw ud(insn, 'no SERIALIZE (CPUID.7:EDX.SERIALIZE = 0)');
  advance(cpu, insn);
}

function undefinedOpcode(cpu: SoftCpu, insn: Instruction): void {
  void cpu;
  throw ud(insn, 'undefined opcode');
}

function rdpmc(cpu: SoftCpu, insn: Instruction): void {
  void insn;
  throw new X86Fault(13, 0, `RDPMC: no performance counters (ECX=0x${(cpu.regs[2]! >>> 0).toString(16)})`);
}

/** MMX/SSE forms (src/x86/sse); a floating-point form it does not implement is an 'invalid' exit. */
function vector(cpu: SoftCpu, insn: Instruction): void {
  const missing = executeVector(cpu, insn);
  if (missing !== undefined) {
    throw new ExitSignal({
      reason: 'invalid',
      detail: `soft: SSE floating-point instruction '${missing}' (map ${insn.map}, opcode 0x${insn.opcode.toString(16)}) is not implemented`,
    });
  }
}

/** Handlers by decoder mnemonic; the MOV forms are told apart by operand kinds. */
const HANDLERS = new Map<string, SystemHandler>([
  ['mov', movSystem],
  ['push', pushSreg], ['pop', popSreg],
  ['lds', loadFarPointer], ['les', loadFarPointer], ['lss', loadFarPointer], ['lfs', loadFarPointer], ['lgs', loadFarPointer],
  ['jmpf', jmpFar], ['callf', callFar], ['retf', retFar],
  ['iret', iret], ['iretd', iret], ['iretq', iret],
  ['int', intN], ['int3', int3], ['into', into], ['int1', int1],
  ['pushf', pushf], ['pushfd', pushf], ['pushfq', pushf], ['popf', popf], ['popfd', popf], ['popfq', popf],
  ['cli', cli], ['sti', sti], ['hlt', hlt],
  ['in', inOut], ['out', inOut], ['ins', insOuts], ['outs', insOuts],
  ['lgdt', lgdt], ['lidt', lidt], ['sgdt', sgdt], ['sidt', sidt],
  ['lldt', lldt], ['ltr', ltr], ['sldt', sldt], ['str', str],
  ['arpl', arpl], ['lar', lar], ['lsl', lsl], ['verr', verr], ['verw', verw],
  ['smsw', smsw], ['lmsw', lmsw], ['clts', clts], ['invlpg', invlpg],
  ['syscall', syscall], ['sysret', sysret], ['sysenter', sysenter], ['sysexit', sysexit], ['swapgs', swapgs],
  ['rdfsbase', fsGsBase], ['rdgsbase', fsGsBase], ['wrfsbase', fsGsBase], ['wrgsbase', fsGsBase],
  ['cpuid', cpuid], ['rdmsr', rdmsr], ['wrmsr', wrmsr], ['rdtsc', rdtsc], ['rdtscp', rdtsc], ['rdpmc', rdpmc],
  ['monitor', monitorExit('monitor')], ['mwait', monitorExit('mwait')],
  ['invd', privilegedNoOp], ['wbinvd', privilegedNoOp],
  ['fwait', fwait], ['fxsave', fxsave], ['fxrstor', fxrstor],
  ['ldmxcsr', ldmxcsr], ['stmxcsr', stmxcsr],
  ['lfence', noOp], ['mfence', noOp], ['sfence', noOp], ['clflush', clflush], ['serialize', serialize],
  ['ud0', undefinedOpcode], ['ud1', undefinedOpcode], ['ud2', undefinedOpcode],
  ['xgetbv', xgetbv], ['xsetbv', xsetbv], ['xsave', xsave], ['xsaveopt', xsaveopt], ['xrstor', xrstor],
  ...VECTOR_MNEMONICS.map((n): [string, SystemHandler] => [n, vector]),
  ...[...NOT_OFFERED].map(([n, why]): [string, SystemHandler] => [n, (_cpu, insn) => { throw ud(insn, why); }]),
]);

/** MOV forms that reach the system layer: control/debug registers and segment registers. */
function movSystem(cpu: SoftCpu, insn: Instruction): void {
  const [dst, src] = insn.operands;
  if (dst?.kind === 'cr') return movToCr(cpu, insn);
  if (src?.kind === 'cr') return movFromCr(cpu, insn);
  if (dst?.kind === 'dr') return movToDr(cpu, insn);
  if (src?.kind === 'dr') return movFromDr(cpu, insn);
  if (dst?.kind === 'seg') return movToSreg(cpu, insn);
  if (src?.kind === 'seg') return movFromSreg(cpu, insn);
  throw unsupported(insn);
}

function unsupported(insn: Instruction): ExitSignal {
  return new ExitSignal({
    reason: 'invalid',
    detail: `soft: instruction '${insn.mnemonic}' (map ${insn.map}, opcode 0x${insn.opcode.toString(16)}, mode ${insn.mode}) is not implemented`,
  });
}

/** Runs insn as a system instruction; throws an 'invalid' exit for what is not implemented. */
export function executeSystem(cpu: SoftCpu, insn: Instruction): void {
  // The x87 escapes D8-DF, every form (memory forms are named, register forms 'x87').
  if (isX87(insn)) return executeX87(cpu, insn);
  const h = HANDLERS.get(insn.mnemonic);
  if (!h) throw unsupported(insn);
  h(cpu, insn);
}
