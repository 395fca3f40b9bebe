/**
 * The x87 instruction layer: the escape opcodes D8-DF (Intel SDM vol. 2, Appendix A.4) over an
 * X87Context (context.ts), shared by the soft CPU and the assists. The forms as data (by opcode
 * and ModRM.reg for memory forms; by opcode, reg and rm for register forms), the checks every
 * x87 instruction makes first (CR0.EM/TS: #NM; a pending unmasked exception: #MF at waiting
 * instructions, or the platform's FERR# answer with CR0.NE clear), the last-instruction
 * pointers (FIP/FDP/FOP, and FCS/FDS through the platform), and the control instructions
 * (FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT, FNSTENV, FLDENV, FNSAVE, FRSTOR).
 */
import type { Instruction } from '../instruction.js';
import { RIP_LO, X86Fault } from '../exec/context.js';
import { advance, pairToAddress } from '../exec/address.js';
import { abs, negate } from '../x87/ext80.js';
import { makeEnv } from '../x87/round.js';
import type { X87Context, X87Platform } from './context.js';
import {
  fldcw, fldenv, fnclex, fninit, fnsave, fnstcw, fnstenv, fnstswAx, fnstswMem, frstor,
} from './control.js';
import {
  arithMem, arithReg, asBcd, asDouble, asExtended, asInt, asSingle, compareMem, compareReg, fbld, fcmov, ffree,
  fisttp, fld80, fldConst, fldMem, fldSt, fnop, fstpNoCheck, fstSt, ftst, fxam, fxch, storeFrom, unary,
} from './data.js';
import { MATH_OPS } from './math-ops.js';
import { memAddress, MemFormat } from './memory.js';
import { CompareTo, type Run } from './ops.js';
import { FSW_ES } from './regs.js';

export type { X87Context, X87Platform, X87Selectors } from './context.js';

const CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_NE = 1 << 5;

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
// (FXCH), DF D0+i and DF D8+i (FSTP), D9 D8+i (data.ts fstpNoCheck), DF C0+i (FFREEP).

// ---- entry ---------------------------------------------------------------------------------

/** Every register form by (escape, reg, rm), built once. */
const REG_TABLE: (Form | null)[] = [];
for (let esc = 0; esc < 8; esc++) for (let reg = 0; reg < 8; reg++) for (let i = 0; i < 8; i++) REG_TABLE.push(REG_FORMS[esc]![reg]!(i));

function formOf(insn: Instruction): Form | null {
  const esc = insn.opcode - 0xd8, reg = insn.reg & 7;
  if (insn.mod !== 3) return MEM_FORMS[esc]![reg]!;
  return REG_TABLE[(esc << 6) | (reg << 3) | (insn.rm & 7)]!;
}

/** Whether insn is an x87 escape instruction (D8-DF of the one-byte map, every form). */
export function isX87(insn: Instruction): boolean {
  return insn.map === 0 && insn.opcode >= 0xd8 && insn.opcode <= 0xdf && insn.vex === 0;
}

/**
 * A pending unmasked x87 exception (FSW.ES) at a waiting instruction: #MF with CR0.NE set, else
 * the platform's FERR# answer. Exported for the other instructions that check it (FWAIT).
 */
export function raisePendingX87(ctx: X87Context, insn: Instruction, platform: X87Platform): void {
  if (ctx.fsw & FSW_ES) pendingException(ctx, insn, platform);
}

function pendingException(ctx: X87Context, insn: Instruction, platform: X87Platform): never {
  if (ctx.cr0 & CR0_NE) throw new X86Fault(16, undefined, `${insn.mnemonic}: pending x87 exception (FSW 0x${ctx.fsw.toString(16)})`);
  return platform.unsignalledError(ctx, `pending unmasked x87 exception (FSW 0x${ctx.fsw.toString(16)}) with CR0.NE clear: FERR#/IRQ13 signalling is not modelled`);
}

/** Runs an x87 escape instruction (opcode D8-DF of the one-byte map); RIP moves past it. */
export function executeX87(ctx: X87Context, insn: Instruction, platform: X87Platform): void {
  if (ctx.cr0 & (CR0_EM | CR0_TS)) throw new X86Fault(7, undefined, `x87 instruction with CR0.EM/TS set`);
  const form = formOf(insn);
  if (form === null) throw new X86Fault(6, undefined, `${insn.mnemonic}: reserved x87 encoding`);
  if (form.waiting && (ctx.fsw & FSW_ES)) pendingException(ctx, insn, platform);
  const env = makeEnv(ctx.fcw);
  // Faults (memory) leave the register file as it was: the pointers change after the work.
  const fip = BigInt(pairToAddress(ctx.regs[RIP_LO]!, ctx.regs[RIP_LO + 1]!));
  const hasMem = insn.mod !== 3;
  const fdp = hasMem && !form.control ? BigInt(memAddress(ctx, insn)) : 0n;
  form.run(ctx, insn, env, platform);
  if (!form.control) {
    ctx.fop = ((insn.opcode & 7) << 8) | (insn.mod << 6) | ((insn.reg & 7) << 3) | (insn.rm & 7);
    ctx.fip = ctx.mode === 64 ? BigInt.asUintN(64, fip) : fip & 0xffffffffn;
    const s = platform.selectors(ctx);
    s.fcs = ctx.segSel[1]! & 0xffff;
    if (hasMem) {
      ctx.fdp = ctx.mode === 64 ? BigInt.asUintN(64, fdp) : fdp & 0xffffffffn;
      s.fds = ctx.segSel[insn.mem!.seg]! & 0xffff;
      s.dsBase = ctx.segBase[insn.mem!.seg]!;
    }
  }
  advance(ctx, insn);
}
