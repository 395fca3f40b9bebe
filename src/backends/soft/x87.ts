/**
 * The x87 escape opcodes D8-DF on the soft CPU (Intel SDM vol. 2, Appendix A.4): the forms as
 * data (by opcode and ModRM.reg for memory forms; by opcode, reg and rm for register forms), the
 * checks every x87 instruction makes first (CR0.EM/TS: #NM; a pending unmasked exception: #MF
 * at waiting instructions), the last-instruction pointers (FIP/FDP/FOP), and the control
 * instructions (FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT, FNSTENV, FLDENV, FNSAVE, FRSTOR).
 *
 * CR0.NE clear: the processor would signal FERR# for an external interrupt controller (IRQ13
 * through the PC's glue logic) and freeze at the waiting instruction. The soft CPU models no
 * FERR# pin: it ends the run with an 'invalid' exit that says so, leaving RIP on the waiting
 * instruction, instead of guessing at a board it does not have.
 */
import type { Instruction } from '../../x86/instruction.js';
import { X86Fault } from '../../x86/exec/context.js';
import { abs, negate } from '../../x86/x87/ext80.js';
import { makeEnv } from '../../x86/x87/round.js';
import type { SoftCpu } from './cpu.js';
import { ExitSignal } from './signals.js';
import { CR0_EM, CR0_NE, CR0_TS } from './state.js';
import { advance, memAddress, ud } from './system-common.js';
import {
  fldcw, fldenv, fnclex, fninit, fnsave, fnstcw, fnstenv, fnstswAx, fnstswMem, frstor, selectorsOf,
} from './x87-control.js';
import {
  arithMem, arithReg, asBcd, asDouble, asExtended, asInt, asSingle, compareMem, compareReg, fbld, fcmov, ffree,
  fisttp, fld80, fldConst, fldMem, fldSt, fnop, fstpNoCheck, fstSt, ftst, fxam, fxch, storeFrom, unary,
} from './x87-data.js';
import { MATH_OPS } from './x87-math-ops.js';
import { MemFormat } from './x87-memory.js';
import { CompareTo, type Run } from './x87-ops.js';
import { FSW_ES } from './x87-regs.js';

interface Form {
  run: Run;
  /** Checks for a pending unmasked exception first (#MF): all but the FN* forms. */
  waiting: boolean;
  /** Control instructions leave FIP/FDP/FOP alone. */
  control: boolean;
}

const data = (run: Run): Form => ({ run, waiting: true, control: false });
const ctrl = (run: Run, waiting: boolean): Form => ({ run, waiting, control: true });

// ---- the tables ----------------------------------------------------------------------------

const D = data;
const UD = null;

/** D8/DA/DC/DE memory forms by ModRM.reg: the arithmetic, with FCOM/FCOMP at /2 and /3. */
function arithMemGroup(fmt: MemFormat): (Form | null)[] {
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r) => D(r === 2 || r === 3 ? compareMem(fmt, r - 2) : arithMem(fmt, r)));
}

/**
 * Register forms D8 (ST0 = ST0 op STi) and DC/DE (STi = STi op ST0, DE pops), by reg and rm;
 * /2 and /3 compare (DC D0/D8 and DE D0 are undocumented FCOM/FCOMP aliases hardware runs).
 */
function arithRegGroup(reversed: boolean, popAfter: boolean): RegRow[] {
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r): RegRow => {
    if (r === 2 || r === 3) return (i) => D(compareReg(i, true, r - 2, CompareTo.Fsw));
    // DC/DE name the reverse operations the other way round (SDM: DC E0+i is FSUBR ST(i), ST(0)).
    const op = reversed && r >= 4 ? r ^ 1 : r;
    return (i) => D(arithReg(op, reversed ? i : 0, reversed ? 0 : i, popAfter));
  });
}
const MEM_FORMS: (Form | null)[][] = [
  /* D8 */ arithMemGroup(MemFormat.Single),
  /* D9 */ [D(fldMem(MemFormat.Single)), UD, D(storeFrom(asSingle, false)), D(storeFrom(asSingle, true)),
    ctrl(fldenv, true), ctrl(fldcw, true), ctrl(fnstenv, false), ctrl(fnstcw, false)],
  /* DA */ arithMemGroup(MemFormat.Int32),
  /* DB */ [D(fldMem(MemFormat.Int32)), D(fisttp(32)), D(storeFrom(asInt(32, false), false)), D(storeFrom(asInt(32, false), true)),
    UD, D(fld80), UD, D(storeFrom(asExtended, true))],
  /* DC */ arithMemGroup(MemFormat.Double),
  /* DD */ [D(fldMem(MemFormat.Double)), D(fisttp(64)), D(storeFrom(asDouble, false)), D(storeFrom(asDouble, true)),
    ctrl(frstor, true), UD, ctrl(fnsave, false), ctrl(fnstswMem, false)],
  /* DE */ arithMemGroup(MemFormat.Int16),
  /* DF */ [D(fldMem(MemFormat.Int16)), D(fisttp(16)), D(storeFrom(asInt(16, false), false)), D(storeFrom(asInt(16, false), true)),
    D(fbld), D(fldMem(MemFormat.Int64)), D(storeFrom(asBcd, true)), D(storeFrom(asInt(64, false), true))],
];

/** A register-form row: the form for each ModRM.rm (the ST(i) index), or null (#UD). */
type RegRow = (i: number) => Form | null;
const byI = (f: (i: number) => Run): RegRow => (i) => data(f(i));
const fcmovRow = (cc: number, negate_: boolean): RegRow => byI(fcmov(cc, negate_));
const byRm = (forms: (Form | null)[]): RegRow => (i) => forms[i]!;
const none: RegRow = () => null;

const D9_E0: (Form | null)[] = [D(unary(negate)), D(unary(abs)), UD, UD, D(ftst), D(fxam), UD, UD];
const D9_E8: (Form | null)[] = [0, 1, 2, 3, 4, 5, 6, null].map((k) => (k === null ? UD : D(fldConst(k))));

const REG_FORMS: RegRow[][] = [
  /* D8 */ arithRegGroup(false, false),
  /* D9 */ [byI(fldSt), byI(fxch), byRm([D(fnop), UD, UD, UD, UD, UD, UD, UD]), byI(fstpNoCheck),
    byRm(D9_E0), byRm(D9_E8), byRm(MATH_OPS.slice(0, 8).map(D)), byRm(MATH_OPS.slice(8, 16).map(D))],
  /* DA */ [fcmovRow(0, false), fcmovRow(1, false), fcmovRow(2, false), fcmovRow(3, false), none,
    byRm([UD, D(compareReg(1, false, 2, CompareTo.Fsw)), UD, UD, UD, UD, UD, UD]), none, none],
  /* DB */ [fcmovRow(0, true), fcmovRow(1, true), fcmovRow(2, true), fcmovRow(3, true),
    // FENI/FDISI/FSETPM (8087/287 controls) do nothing on later processors.
    byRm([ctrl(fnop, false), ctrl(fnop, false), ctrl(fnclex, false), ctrl(fninit, false), ctrl(fnop, false), UD, UD, UD]),
    (i) => D(compareReg(i, false, 0, CompareTo.Eflags)), (i) => D(compareReg(i, true, 0, CompareTo.Eflags)), none],
  /* DC */ arithRegGroup(true, false),
  /* DD */ [byI(ffree(false)), byI(fxch), byI(fstSt(false)), byI(fstSt(true)),
    (i) => D(compareReg(i, false, 0, CompareTo.Fsw)), (i) => D(compareReg(i, false, 1, CompareTo.Fsw)), none, none],
  /* DE */ arithRegGroup(true, true).map((row, r) => (r === 3 ? byRm([UD, D(compareReg(1, true, 2, CompareTo.Fsw)), UD, UD, UD, UD, UD, UD])
    : r === 2 ? (i: number) => D(compareReg(i, true, 1, CompareTo.Fsw)) : row)),
  /* DF */ [byI(ffree(true)), byI(fxch), byI(fstSt(true)), byI(fstSt(true)),
    byRm([ctrl(fnstswAx, false), UD, UD, UD, UD, UD, UD, UD]),
    (i) => D(compareReg(i, false, 1, CompareTo.Eflags)), (i) => D(compareReg(i, true, 1, CompareTo.Eflags)), none],
];

// Undocumented aliases hardware runs are in the tables as it runs them: DD C8+i and DF C8+i
// (FXCH), DF D0+i and DF D8+i (FSTP), D9 D8+i (x87-data.ts fstpNoCheck), DF C0+i (FFREEP).

// ---- entry ---------------------------------------------------------------------------------

/** Every register form by (escape, reg, rm), built once. */
const REG_TABLE: (Form | null)[] = [];
for (let esc = 0; esc < 8; esc++) for (let reg = 0; reg < 8; reg++) for (let i = 0; i < 8; i++) REG_TABLE.push(REG_FORMS[esc]![reg]!(i));

function formOf(insn: Instruction): Form | null {
  const esc = insn.opcode - 0xd8, reg = insn.reg & 7;
  if (insn.mod !== 3) return MEM_FORMS[esc]![reg]!;
  return REG_TABLE[(esc << 6) | (reg << 3) | (insn.rm & 7)]!;
}

/**
 * A pending unmasked x87 exception (FSW.ES) at a waiting instruction: #MF with CR0.NE set, else
 * the FERR# exit (see the header). Exported for the other instructions that check it (MMX).
 */
export function raisePendingX87(cpu: SoftCpu, insn: Instruction): void {
  if (cpu.fsw & FSW_ES) pendingException(cpu, insn);
}

function pendingException(cpu: SoftCpu, insn: Instruction): never {
  if (cpu.cr0 & CR0_NE) throw new X86Fault(16, undefined, `${insn.mnemonic}: pending x87 exception (FSW 0x${cpu.fsw.toString(16)})`);
  throw new ExitSignal({
    reason: 'invalid',
    detail: `soft: pending unmasked x87 exception (FSW 0x${cpu.fsw.toString(16)}) with CR0.NE clear: FERR#/IRQ13 signalling is not modelled`,
  });
}

/** Runs an x87 escape instruction (opcode D8-DF of the one-byte map). */
export function executeX87(cpu: SoftCpu, insn: Instruction): void {
  if (cpu.cr0 & (CR0_EM | CR0_TS)) throw new X86Fault(7, undefined, `x87 instruction with CR0.EM/TS set`);
  const form = formOf(insn);
  if (form === null) throw ud(insn, 'reserved x87 encoding');
  if (form.waiting && (cpu.fsw & FSW_ES)) pendingException(cpu, insn);
  const env = makeEnv(cpu.fcw);
  // Faults (memory) leave the register file as it was: the pointers change after the work.
  const fip = BigInt(cpu.rip);
  const hasMem = insn.mod !== 3;
  const fdp = hasMem && !form.control ? BigInt(memAddress(cpu, insn)) : 0n;
  form.run(cpu, insn, env);
  if (!form.control) {
    cpu.fop = ((insn.opcode & 7) << 8) | (insn.mod << 6) | ((insn.reg & 7) << 3) | (insn.rm & 7);
    cpu.fip = cpu.mode === 64 ? BigInt.asUintN(64, fip) : fip & 0xffffffffn;
    const s = selectorsOf(cpu);
    s.fcs = cpu.segSel[1]! & 0xffff;
    if (hasMem) {
      cpu.fdp = cpu.mode === 64 ? BigInt.asUintN(64, fdp) : fdp & 0xffffffffn;
      s.fds = cpu.segSel[insn.mem!.seg]! & 0xffff;
      s.dsBase = cpu.segBase[insn.mem!.seg]!;
    }
  }
  advance(cpu, insn);
}

/** FWAIT: #NM with CR0.TS and MP both set; then any pending unmasked exception (#MF). */
export function fwaitX87(cpu: SoftCpu, insn: Instruction): void {
  raisePendingX87(cpu, insn);
  advance(cpu, insn);
}

