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
import {
  fromBcd, toBcd, toIeee, toInt, DOUBLE, SINGLE,
} from '../../x86/x87/convert.js';
import { examine, EXAMINE_EMPTY } from '../../x86/x87/compare.js';
import { abs, type Ext, fromBytes, INDEFINITE, negate, toBytes, zero } from '../../x86/x87/ext80.js';
import { DE, makeEnv, type FpEnv, IE, PE } from '../../x86/x87/round.js';
import type { SoftCpu } from './cpu.js';
import { cpuidValues } from './cpuid.js';
import { ExitSignal } from './signals.js';
import { CR0_EM, CR0_NE, CR0_PE, CR0_TS, RFLAGS_VM } from './state.js';
import { advance, memAddress, ud } from './system-common.js';
import { loadEnv, loadSave, storeEnv, storeSave, type EnvLayout, envSize } from './x87-env.js';
import { MemFormat, bigToBytes, readBytes, readOperand, writeBytes } from './x87-memory.js';
import {
  arithmeticTo, commit, compareSt0, CompareTo, ieMasked, load, type Run, stackUnderflow, storeBlocked,
} from './x87-ops.js';
import { MATH_OPS } from './x87-math-ops.js';
import {
  FSW_B, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_ES, isEmpty, pop, readSt, retop, updateSummary, writeSt,
} from './x87-regs.js';
import { CONSTANTS } from '../../x86/x87/constants.js';


interface Form {
  run: Run;
  /** Checks for a pending unmasked exception first (#MF): all but the FN* forms. */
  waiting: boolean;
  /** Control instructions leave FIP/FDP/FOP alone. */
  control: boolean;
}

const data = (run: Run): Form => ({ run, waiting: true, control: false });
const ctrl = (run: Run, waiting: boolean): Form => ({ run, waiting, control: true });

// ---- selectors of the last instruction and operand (for FNSTENV/FNSAVE) ----------------------

interface Selectors { fcs: number; fds: number; dsBase: number }
/** FCS/FDS are not part of the API state (as in FXSAVE's 64-bit image): kept beside the CPU. */
const selectors = new WeakMap<SoftCpu, Selectors>();
function selectorsOf(cpu: SoftCpu): Selectors {
  let s = selectors.get(cpu);
  if (!s) { s = { fcs: 0, fds: 0, dsBase: 0 }; selectors.set(cpu, s); }
  return s;
}

function layout(cpu: SoftCpu, insn: Instruction): EnvLayout {
  return { wide: insn.opSize !== 2, real: !(cpu.cr0 & CR0_PE) || (cpu.flags & RFLAGS_VM) !== 0 };
}

// ---- loads and stores -------------------------------------------------------------------------

function fldMem(fmt: MemFormat): Run {
  return (cpu, insn, env) => {
    const x = readOperand(cpu, insn, fmt);
    if (x.denormal && isEmpty(cpu, 7)) env.flags |= DE;
    load(cpu, env, quietOnLoad(env, x.value));
  };
}

/** A single/double SNaN is invalid on load and arrives quieted. */
function quietOnLoad(env: FpEnv, x: Ext): Ext {
  if (x.exp === 0x7fff && (x.sig & (1n << 63n)) && !(x.sig & (1n << 62n)) && (x.sig & ((1n << 62n) - 1n))) {
    env.flags |= IE;
    return { ...x, sig: x.sig | (1n << 62n) };
  }
  return x;
}

const fld80: Run = (cpu, insn, env) => load(cpu, env, fromBytes(readBytes(cpu, insn, 10)));
const fbld: Run = (cpu, insn, env) => load(cpu, env, fromBcd(readBytes(cpu, insn, 10)));

/** Stores ST(0) through `convert` (undefined source: empty register, the format's indefinite). */
function storeFrom(convert: (env: FpEnv, x: Ext | undefined) => Uint8Array, popAfter: boolean): Run {
  return (cpu, insn, env) => {
    env.c1 = 0;
    let bytes: Uint8Array;
    if (isEmpty(cpu, 0)) {
      stackUnderflow(env);
      bytes = convert(env, undefined);
    } else bytes = convert(env, readSt(cpu, 0));
    if (storeBlocked(env)) {
      // Nothing is stored, so nothing was rounded: no PE, C1 clear.
      env.flags &= ~PE;
      if (env.c1 > 0) env.c1 = 0;
      return commit(cpu, env);
    }
    writeBytes(cpu, insn, bytes);
    if (popAfter) pop(cpu);
    commit(cpu, env);
  };
}

const asSingle = (env: FpEnv, x: Ext | undefined): Uint8Array => bigToBytes(x ? toIeee(env, x, SINGLE) : 0xffc00000n, 4);
const asDouble = (env: FpEnv, x: Ext | undefined): Uint8Array => bigToBytes(x ? toIeee(env, x, DOUBLE) : 0xfff8000000000000n, 8);
const asExtended = (_env: FpEnv, x: Ext | undefined): Uint8Array => toBytes(x ?? INDEFINITE);
const asBcd = (env: FpEnv, x: Ext | undefined): Uint8Array =>
  x ? toBcd(env, x) : Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff);
function asInt(bits: number, truncate: boolean) {
  return (env: FpEnv, x: Ext | undefined): Uint8Array =>
    bigToBytes(x ? toInt(env, x, bits, truncate) : -(1n << BigInt(bits - 1)), bits / 8);
}

/** FISTTP exists with SSE3 (as CPUID reports it); #UD otherwise. */
function fisttp(bits: number): Run {
  const store = storeFrom(asInt(bits, true), true);
  return (cpu, insn, env) => {
    if (!(cpuidValues(cpu, 1, 0)[2]! & 1)) throw ud(insn, 'FISTTP needs SSE3 (CPUID.1:ECX.SSE3 = 0)');
    store(cpu, insn, env);
  };
}

/** FST/FSTP ST(i): an exact copy of ST(0) (no exceptions but stack underflow). */
function fstSt(popAfter: boolean): (i: number) => Run {
  return (i) => (cpu, _insn, env) => {
    if (isEmpty(cpu, 0)) {
      stackUnderflow(env);
      if (!ieMasked(env)) return commit(cpu, env);
      writeSt(cpu, i, INDEFINITE);
    } else {
      cpu.st[i]!.set(cpu.st[0]!);
      writeSt(cpu, i, readSt(cpu, i));
    }
    if (popAfter) pop(cpu);
    commit(cpu, env);
  };
}

/**
 * D9 D8+i (undocumented "FSTP1"/FSTPNCE): ST(i) = ST(0), then pop; an empty ST(0) raises
 * nothing and stores nothing (checked against the host).
 */
function fstpNoCheck(i: number): Run {
  return (cpu, _insn, env) => {
    if (!isEmpty(cpu, 0)) {
      cpu.st[i]!.set(cpu.st[0]!);
      writeSt(cpu, i, readSt(cpu, i));
    }
    pop(cpu);
    commit(cpu, env);
  };
}

function fldSt(i: number): Run {
  return (cpu, _insn, env) => load(cpu, env, isEmpty(cpu, i) ? undefined : readSt(cpu, i));
}

function fxch(i: number): Run {
  return (cpu, _insn, env) => {
    if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
      stackUnderflow(env);
      if (!ieMasked(env)) return commit(cpu, env);
      if (isEmpty(cpu, 0)) writeSt(cpu, 0, INDEFINITE);
      if (isEmpty(cpu, i)) writeSt(cpu, i, INDEFINITE);
    }
    const a = readSt(cpu, 0);
    writeSt(cpu, 0, readSt(cpu, i));
    writeSt(cpu, i, a);
    env.c1 = 0;
    commit(cpu, env);
  };
}

// ---- arithmetic and comparisons ---------------------------------------------------------------

function arithMem(fmt: MemFormat, op: number): Run {
  return (cpu, insn, env) => arithmeticTo(cpu, env, op, 0, readOperand(cpu, insn, fmt), false);
}

function compareMem(fmt: MemFormat, pops: number): Run {
  return (cpu, insn, env) => { compareSt0(cpu, env, readOperand(cpu, insn, fmt), true, pops, CompareTo.Fsw); };
}

/** D8/DA/DC/DE memory forms by ModRM.reg. */
function arithMemGroup(fmt: MemFormat): (Form | null)[] {
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r) => data(r === 2 || r === 3 ? compareMem(fmt, r - 2) : arithMem(fmt, r)));
}

/** Register forms: D8 (ST0 = ST0 op STi) and DC/DE (STi = STi op ST0, DE pops), by reg and rm. */
function arithRegGroup(reversed: boolean, popAfter: boolean): RegRow[] {
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r): RegRow => {
    if (r === 2 || r === 3) return (i) => data(compareReg(i, true, r - 2, CompareTo.Fsw));
    // DC/DE name the reverse operations the other way round (SDM: DC E0+i is FSUBR ST(i), ST(0)).
    const op = reversed && r >= 4 ? r ^ 1 : r;
    return (i) => data((cpu, _insn, env) => arithmeticTo(cpu, env, op, reversed ? i : 0, reversed ? 0 : i, popAfter));
  });
}

function compareReg(i: number, ordered: boolean, pops: number, to: CompareTo): Run {
  return (cpu, _insn, env) => {
    const fl = compareSt0(cpu, env, i, ordered, pops, to);
    if (fl >= 0) cpu.flags = (cpu.flags & ~0x8d5) | fl; // ZF PF CF from the outcome; OF SF AF cleared
  };
}

/** FCMOVcc: condition from RFLAGS (B, E, BE, U and their negations). */
const FCMOV_CONDITIONS: ((fl: number) => boolean)[] = [
  (fl) => (fl & 1) !== 0, (fl) => (fl & 0x40) !== 0, (fl) => (fl & 0x41) !== 0, (fl) => (fl & 4) !== 0,
];
function fcmov(cc: number, negate_: boolean): RegRow {
  return (i) => data((cpu, _insn, env) => {
    env.c1 = -1; // C1 changes only on a stack fault (checked against the host)
    if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(cpu, 0, INDEFINITE);
    } else if (FCMOV_CONDITIONS[cc]!(cpu.flags) !== negate_) {
      writeSt(cpu, 0, readSt(cpu, i));
    }
    commit(cpu, env);
  });
}

/** Operations on ST(0) alone that only need it non-empty: FCHS, FABS. */
function unary(f: (x: Ext) => Ext): Run {
  return (cpu, _insn, env) => {
    if (isEmpty(cpu, 0)) {
      stackUnderflow(env);
      if (ieMasked(env)) writeSt(cpu, 0, INDEFINITE);
    } else writeSt(cpu, 0, f(readSt(cpu, 0)));
    commit(cpu, env);
  };
}

const ftst: Run = (cpu, _insn, env) => { compareSt0(cpu, env, zero(0), true, 0, CompareTo.Fsw); };

const fxam: Run = (cpu, _insn, env) => {
  const x = readSt(cpu, 0);
  const cc = isEmpty(cpu, 0) ? EXAMINE_EMPTY : examine(x);
  cpu.fsw = (cpu.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc | (x.sign ? FSW_C1 : 0);
  void env;
};

function fldConst(k: number): Run {
  return (cpu, _insn, env) => load(cpu, env, CONSTANTS[k]!(env.rc));
}

// ---- stack control ------------------------------------------------------------------------

const ffree = (i: number): Run => (cpu, _insn, env) => { cpu.ftw &= ~(1 << ((((cpu.fsw >>> 11) & 7) + i) & 7)); commit(cpu, env); };
const ffreep = (i: number): Run => (cpu, _insn, env) => { cpu.ftw &= ~(1 << ((((cpu.fsw >>> 11) & 7) + i) & 7)); pop(cpu); commit(cpu, env); };
const fnop: Run = () => {};

// ---- control ---------------------------------------------------------------------------------

const fldcw: Run = (cpu, insn) => {
  const b = readBytes(cpu, insn, 2);
  cpu.fcw = (b[0]! | (b[1]! << 8)) & 0x1f3f | 0x40;
  updateSummary(cpu);
};
const fnstcw: Run = (cpu, insn) => writeBytes(cpu, insn, Uint8Array.of(cpu.fcw & 0xff, cpu.fcw >>> 8));
const fnstswMem: Run = (cpu, insn) => writeBytes(cpu, insn, Uint8Array.of(cpu.fsw & 0xff, cpu.fsw >>> 8));
const fnstswAx: Run = (cpu) => { cpu.regs[0] = (cpu.regs[0]! & ~0xffff) | cpu.fsw; };
const fnclex: Run = (cpu) => { cpu.fsw &= ~(0xff | FSW_B); };
export function initFpu(cpu: SoftCpu): void {
  retop(cpu, 0);
  cpu.fcw = 0x37f; cpu.fsw = 0; cpu.ftw = 0; cpu.fop = 0; cpu.fip = 0n; cpu.fdp = 0n;
  const s = selectorsOf(cpu);
  s.fcs = 0; s.fds = 0; s.dsBase = 0;
}
const fninit: Run = (cpu) => initFpu(cpu);

function pointers(cpu: SoftCpu): { fcs: number; fds: number; csBase: number; dsBase: number } {
  const s = selectorsOf(cpu);
  return { fcs: s.fcs, fds: s.fds, csBase: cpu.segBase[1]!, dsBase: s.dsBase };
}

const fnstenv: Run = (cpu, insn) => {
  writeBytes(cpu, insn, storeEnv(cpu, layout(cpu, insn), pointers(cpu)));
  cpu.fcw |= 0x3f;
  updateSummary(cpu);
};
const fldenv: Run = (cpu, insn) => {
  const l = layout(cpu, insn);
  const sel = loadEnv(cpu, readBytes(cpu, insn, envSize(l)), l);
  Object.assign(selectorsOf(cpu), sel);
};
const fnsave: Run = (cpu, insn) => {
  writeBytes(cpu, insn, storeSave(cpu, layout(cpu, insn), pointers(cpu)));
  initFpu(cpu);
};
const frstor: Run = (cpu, insn) => {
  const l = layout(cpu, insn);
  const sel = loadSave(cpu, readBytes(cpu, insn, envSize(l) + 80), l);
  Object.assign(selectorsOf(cpu), sel);
};

// ---- the tables ----------------------------------------------------------------------------

const D = data;
const UD = null;
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
const byRm = (forms: (Form | null)[]): RegRow => (i) => forms[i]!;
const none: RegRow = () => null;

const D9_E0: (Form | null)[] = [D(unary(negate)), D(unary(abs)), UD, UD, D(ftst), D(fxam), UD, UD];
const D9_E8: (Form | null)[] = [0, 1, 2, 3, 4, 5, 6, null].map((k) => (k === null ? UD : D(fldConst(k))));

const REG_FORMS: RegRow[][] = [
  /* D8 */ arithRegGroup(false, false),
  /* D9 */ [byI(fldSt), byI(fxch), byRm([D(fnop), UD, UD, UD, UD, UD, UD, UD]), byI(fstpNoCheck),
    byRm(D9_E0), byRm(D9_E8), byRm(MATH_OPS.slice(0, 8).map(D)), byRm(MATH_OPS.slice(8, 16).map(D))],
  /* DA */ [fcmov(0, false), fcmov(1, false), fcmov(2, false), fcmov(3, false), none,
    byRm([UD, D(compareReg(1, false, 2, CompareTo.Fsw)), UD, UD, UD, UD, UD, UD]), none, none],
  /* DB */ [fcmov(0, true), fcmov(1, true), fcmov(2, true), fcmov(3, true),
    // FENI/FDISI/FSETPM (8087/287 controls) do nothing on later processors.
    byRm([ctrl(fnop, false), ctrl(fnop, false), ctrl(fnclex, false), ctrl(fninit, false), ctrl(fnop, false), UD, UD, UD]),
    (i) => D(compareReg(i, false, 0, CompareTo.Eflags)), (i) => D(compareReg(i, true, 0, CompareTo.Eflags)), none],
  /* DC */ arithRegGroup(true, false),
  /* DD */ [byI(ffree), byI(fxch), byI(fstSt(false)), byI(fstSt(true)),
    (i) => D(compareReg(i, false, 0, CompareTo.Fsw)), (i) => D(compareReg(i, false, 1, CompareTo.Fsw)), none, none],
  /* DE */ arithRegGroup(true, true).map((row, r) => (r === 3 ? byRm([UD, D(compareReg(1, true, 2, CompareTo.Fsw)), UD, UD, UD, UD, UD, UD])
    : r === 2 ? (i: number) => D(compareReg(i, true, 1, CompareTo.Fsw)) : row)),
  /* DF */ [byI(ffreep), byI(fxch), byI(fstSt(true)), byI(fstSt(true)),
    byRm([ctrl(fnstswAx, false), UD, UD, UD, UD, UD, UD, UD]),
    (i) => D(compareReg(i, false, 1, CompareTo.Eflags)), (i) => D(compareReg(i, true, 1, CompareTo.Eflags)), none],
];

// The undocumented aliases real processors execute (DC D0/D8, DE D0: FCOM/FCOMP) come from
// arithRegGroup's compare rows; DD C8, DF C8 (FXCH), DF D0/D8 (FSTP), D9 D8 (FSTP) are above.

// ---- entry ---------------------------------------------------------------------------------

function formOf(insn: Instruction): Form | null {
  const esc = insn.opcode - 0xd8, reg = insn.reg & 7;
  if (insn.mod !== 3) return MEM_FORMS[esc]![reg]!;
  return REG_FORMS[esc]![reg]!(insn.rm & 7);
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
  if (cpu.fsw & FSW_ES) pendingException(cpu, insn);
  advance(cpu, insn);
}

