/**
 * Straight-line JS for the hottest register-only instruction forms, emitted into a compiled
 * block (block-compile.ts) instead of a call to the instruction's closure. The text only moves
 * operands between the register file and the ALU helpers of src/x86/exec/alu.ts (add32, sub64,
 * logic32, incDec32...), which hold the semantics and flags once for every tier; the engine
 * inlines those small helpers into the block's function.
 *
 * An inlined form leaves RIP alone: the block writes RIP once, before anything that can fault
 * or branch and at its end. Register forms cannot fault. Memory forms probe the TLB and, on a
 * hit, cannot fault either, nor write a page holding decoded code (such pages are never
 * writable through the TLB); what the probe declines (segmentation, paging, MMIO, code pages,
 * page crossings) is a DECLINE: the block returns and the run loop runs the instruction through
 * its closure, so the block holds no slow path (no call that may fault, and no code V8 has never
 * seen run when it optimises the block). Forms that call a helper which may fault (`faults`:
 * PUSH/POP outside 64-bit code) run it between SLOW_ENTER and SLOW_LEAVE(_WRITE), where the
 * block makes RIP and the retired count exact and, after a write, checks for dropped decoded
 * code. The generated code sees `cpu`, s0/s1 (RIP at the block's
 * start), the instruction by the name given and the helpers by the names in BLOCK_HELPERS.
 * Register i (a regs index) is the local $g<i> (block-compile.ts keeps registers in locals);
 * `rf` is the register file itself, which whatever reads registers from the CPU (push, pop,
 * effectiveAddress) needs up to date.
 *
 * Forms (32/64-bit code, 32/64-bit operands unless said, no LOCK): ADD OR ADC SBB AND SUB XOR CMP register
 * and immediate forms and with a memory source, CMP/TEST with a memory destination, TEST,
 * INC/DEC register, MOV register/immediate/load/store, MOVZX, MOVSX, MOVSXD, CMOVcc, SETcc
 * register, LEA, shifts by an immediate or CL, IMUL, TEST/NOT/NEG (F7), PUSH/POP register, byte CMP/TEST (registers,
 * immediates, memory) and byte and 16-bit MOV stores, and NOP/PAUSE and the hint-space NOPs
 * (no code at all: ops-move.ts onlyAdvances), INC/DEC with a memory operand (one write probe:
 * its flags are recorded only where the write cannot fault), and the XMM forms of block-vector.ts.
 * Other read-modify-write memory destinations stay with their closures (their flags must survive
 * a faulting write).
 */
import type { Instruction } from '../../x86/instruction.js';
import { REG_NONE, REG_RIP } from '../../x86/instruction.js';
import { effectiveAddress } from '../../x86/exec/address.js';
import { pop, push } from '../../x86/exec/stack.js';
import { ALU_INLINE_SCOPE, add32, add64, incDec32, incDec64, logic32, logic64, logic8, sub32, sub64, sub8 } from '../../x86/exec/alu.js';
import {
  addCondition32, addCondition64, carry, ccOf, conditionOf, LAZY_FLAGS_INLINE_SCOPE, LF_ADD, LF_KEEP_CF, LF_KEEP_OF, LF_LOGIC, LF_SUB,
  logicCondition32, logicCondition64, narrowCondition, RECORD_CONDITIONS, recordSzp, subCondition32, subCondition64, writeCfOf,
} from '../../x86/exec/lazy-flags.js';
import { byteRegister, half } from '../../x86/exec/regs.js';
import { readTsc, tscOut } from './msr.js';
import { onlyAdvances } from '../../x86/exec/ops-move.js';
import { rclN, rclPair, rcrN, rcrPair, rolN, rolPair, rorN, rorPair, sarN, sarPair, SHIFT_INLINE_SCOPE, shiftOut, shlN, shlPair, shrN, shrPair } from '../../x86/exec/ops-shift.js';
import { imul32, imulPair, MULDIV_INLINE_SCOPE } from '../../x86/exec/ops-muldiv.js';
import { canonicalHigh } from '../../x86/exec/ops-control.js';
import { cmovFalseWritesReg, FLAG_POLICY_INLINE_SCOPE, mulFlags, shiftFlags } from '../../x86/exec/undefined-flags.js';
import { mulS32, mulU32, wide } from '../../x86/exec/wide.js';
import { bit64, sar64, shl64, shr64 } from '../../x86/exec/pair.js';
import { BLOCK_LOCALS, inlineCall, parseHelper, type InlinableHelper } from './helper-inline.js';
import { withinLimit } from './state.js';
import { probeAt, probePair, slotOf, TLB_INLINE_SCOPE } from './tlb.js';
import { VECTOR_HELPERS, vectorForm, vectorLoad } from './block-vector.js';
import { vectorLoadTarget } from './vector-forms.js';

/** The names inlined helper bodies use: their modules' scopes, merged (a name means one value). */
const INLINE_SCOPE: Record<string, unknown> = {};
for (const scope of [ALU_INLINE_SCOPE, FLAG_POLICY_INLINE_SCOPE, LAZY_FLAGS_INLINE_SCOPE, SHIFT_INLINE_SCOPE, MULDIV_INLINE_SCOPE, TLB_INLINE_SCOPE] as Record<string, unknown>[]) {
  for (const [name, value] of Object.entries(scope)) {
    if (name in INLINE_SCOPE && INLINE_SCOPE[name] !== value) throw new Error(`inline scopes bind ${name} to two values`);
    if (BLOCK_LOCALS.has(name)) throw new Error(`inline scope name ${name} is a name block code defines`);
    INLINE_SCOPE[name] = value;
  }
}

/** What generated block code may call or use, by name (the factory binds each to a local const). */
export const BLOCK_HELPERS = {
  ...INLINE_SCOPE,
  add32, add64, sub32, sub64, logic32, logic64, sub8, logic8, incDec32, incDec64, carry, conditionOf, half,
  ccOf, subCondition32, addCondition32, logicCondition32, subCondition64, addCondition64, logicCondition64, narrowCondition,
  rolN, rorN, rclN, rcrN, shlN, shrN, sarN, rolPair, rorPair, rclPair, rcrPair, shlPair, shrPair, sarPair,
  shiftOut, shiftFlags, imul32, imulPair, mulFlags, wide,
  effectiveAddress, push, pop, withinLimit, slotOf, probeAt, probePair, canonicalHigh, readTsc, tscOut,
  ...VECTOR_HELPERS,
};

const scopeNames = new Set(Object.keys(BLOCK_HELPERS));
const helper = (fn: (...args: never[]) => unknown): InlinableHelper | undefined => parseHelper(fn, scopeNames);
/** The helpers whose bodies go into blocks (undefined: its shape does not allow it; it is called). */
export const INLINED = {
  add32: helper(add32), sub32: helper(sub32), logic32: helper(logic32), sub8: helper(sub8), logic8: helper(logic8),
  add64: helper(add64), sub64: helper(sub64), logic64: helper(logic64),
  incDec32: helper(incDec32), incDec64: helper(incDec64), shiftFlags: helper(shiftFlags), mulFlags: helper(mulFlags),
  rolN: helper(rolN), rorN: helper(rorN), rclN: helper(rclN), rcrN: helper(rcrN), shlN: helper(shlN), shrN: helper(shrN), sarN: helper(sarN),
  rolPair: helper(rolPair), rorPair: helper(rorPair), rclPair: helper(rclPair), rcrPair: helper(rcrPair),
  shlPair: helper(shlPair), shrPair: helper(shrPair), sarPair: helper(sarPair), imul32: helper(imul32), imulPair: helper(imulPair),
  withinLimit: helper(withinLimit), slotOf: helper(slotOf), probeAt: helper(probeAt), probePair: helper(probePair),
  canonicalHigh: helper(canonicalHigh),
  subCondition32: helper(subCondition32), addCondition32: helper(addCondition32), logicCondition32: helper(logicCondition32),
  narrowCondition: helper(narrowCondition),
  subCondition64: helper(subCondition64), addCondition64: helper(addCondition64), logicCondition64: helper(logicCondition64),
};

/**
 * The helpers an inlined helper calls that go in place too (helper-inline.ts inlineNested): the
 * small ones its common paths run (a shift's pair shift and flag record, a product's 32-bit
 * multiply); the 64 x 64 product stays a call, as it is rare and long.
 */
const NESTED: Readonly<Record<string, InlinableHelper | undefined>> = {
  ...INLINED, shl64: helper(shl64), shr64: helper(shr64), sar64: helper(sar64), bit64: helper(bit64),
  recordSzp: helper(recordSzp), writeCfOf: helper(writeCfOf), mulU32: helper(mulU32), mulS32: helper(mulS32), ccOf: helper(ccOf),
};
const nested = (name: string): InlinableHelper | undefined => (Object.hasOwn(NESTED, name) ? NESTED[name] : undefined);

/** A call of helper `name` on args, inlined where INLINED allows, followed by use(result). */
function call(name: keyof typeof INLINED, args: readonly string[], use: (v: string) => string = () => ''): string {
  const text = inlineCall(INLINED[name], name, args, use, nested);
  if (args[0] !== DEAD) return text;
  // A dead record: the helper's stores into it go; any other use of it keeps the real one.
  const kept = text.replace(/\$dead\.\w+ = [^;]*;/g, '');
  return kept.includes(DEAD) ? inlineCall(INLINED[name], name, ['cpu', ...args.slice(1)], use, nested) : kept;
}

/**
 * The flag record's owner in a form's text when the block overwrites that record before
 * anything can see it (deadRecords): the helper's stores into it are left out.
 */
const DEAD = '$dead';

/**
 * Statements that evaluate condition cc and then use(v), v naming the result. Where the block
 * knows the flag record an instruction of its own left (record: its lfOp, recordAfter), that
 * record's condition (lazy-flags RECORD_CONDITIONS) goes in place: it reads only the fields it
 * needs and holds no code for other kinds. Otherwise (the flags come from before the block) a
 * call of conditionOf: its body, which handles every kind, was 40% of the text of a Linux boot's
 * compiled blocks when it was put in place at each such Jcc, SETcc and CMOVcc.
 */
export function conditionText(cc: number, use: (v: string) => string, record?: number): string {
  const cond = record === undefined || (cc >> 1) === 5 ? undefined : RECORD_CONDITIONS[record & ~(LF_KEEP_CF | LF_KEEP_OF)];
  if (cond === undefined) return inlineCall(undefined, 'conditionOf', ['cpu', `${cc}`], use);
  // Without a kept CF the flags are not read (ccOf takes CF and OF from them only when kept says so).
  const args = cond.args.map((a) => a === 'kept' ? `${record}` : a === 'flagBits' && (record! & LF_KEEP_CF) === 0 ? '0' : `cpu.${a}`);
  return call(cond.name as keyof typeof INLINED, [`${cc}`, ...args], use);
}

/**
 * Generated statements for one instruction; faults: they call a helper that may fault, exit or
 * drop decoded code (between the SLOW markers). Forms that only probe the TLB DECLINE instead.
 */
export interface InlineForm { text: string; faults: boolean }

/**
 * Where an inlined access leaves its fast path: the block compiler returns here (a decline,
 * block-compile.ts), so that the run loop runs the instruction through its closure (which
 * checks everything) and goes on from there.
 */
export const DECLINE = '@decline@';

/**
 * Around a helper call that may fault, exit or drop decoded code (PUSH/POP outside 64-bit code):
 * the block compiler replaces SLOW_ENTER with what makes RIP and the retired count exact, and
 * SLOW_LEAVE (after a read) or SLOW_LEAVE_WRITE (after a write: also its check for dropped code)
 * with what undoes the count, so that the code around carries neither.
 */
export const SLOW_ENTER = '@enter@', SLOW_LEAVE = '@leave@', SLOW_LEAVE_WRITE = '@leave-write@';
const slow = (text: string, writes: boolean): string => `${SLOW_ENTER} ${text} ${writes ? SLOW_LEAVE_WRITE : SLOW_LEAVE}`;


/** Group 2 operations (ModRM.reg order) on 32- and 64-bit operands, by helper name (SAL = SHL). */
const SHIFT32 = ['rolN', 'rorN', 'rclN', 'rcrN', 'shlN', 'shrN', 'shlN', 'sarN'] as const;
const SHIFT64 = ['rolPair', 'rorPair', 'rclPair', 'rcrPair', 'shlPair', 'shrPair', 'shlPair', 'sarPair'] as const;

/** regs index of RSP's low half. */
export const RSP = 8;

const OP_ADD = 0, OP_OR = 1, OP_ADC = 2, OP_SBB = 3, OP_AND = 4, OP_XOR = 6, OP_CMP = 7;

/**
 * The inlined form of insn (bound to the name `name` in the generated code, ending at block
 * offset end), or undefined when it must run through its closure.
 */
export function inlineInsn(insn: Instruction, name: string, end: number, deadRecord = false, record?: number): InlineForm | undefined {
  const text = registerForm(insn, deadRecord ? DEAD : 'cpu', record);
  if (text !== undefined) return { text, faults: false };
  const vector = vectorForm(insn, DECLINE);
  if (vector !== undefined) return { text: vector, faults: false };
  return memoryForm(insn, name, end, record) ?? tscForm(insn);
}

/**
 * RDTSC and RDTSCP (system instructions: their closures decline, and each ended its compiled
 * block with a decline): msr.ts readTsc, with the instructions the block retired before it
 * (k once SLOW_ENTER made the count exact), may #GP (CR4.TSD at CPL > 0).
 */
function tscForm(insn: Instruction): InlineForm | undefined {
  if (insn.vex !== 0 || insn.lock || insn.mode === 16 || (insn.mnemonic !== 'rdtsc' && insn.mnemonic !== 'rdtscp')) return undefined;
  const aux = insn.mnemonic === 'rdtscp' ? ' $g2 = cpu.tscAux; $g3 = 0;' : '';
  return { text: `{ ${slow('readTsc(cpu, k);', false)} $g0 = tscOut.lo; $g1 = 0; $g4 = tscOut.hi; $g5 = 0;${aux} }`, faults: true };
}

/**
 * The flag record (lfOp) an instruction with an inlined form (inlineInsn) leaves, given the one
 * before it (undefined: unknown): exact for the ALU, TEST, INC and DEC forms, the one before for
 * forms that leave the flags alone; undefined for the rest (shifts, IMUL). A block decides its
 * own Jcc, SETcc and CMOVcc from it (conditionText).
 */
export function recordAfter(insn: Instruction, before: number | undefined): number | undefined {
  if (onlyAdvances(insn)) return before;
  const op = insn.opcode, size = insn.opSize, regForm = insn.hasModrm && insn.mod === 3;
  if (insn.map === 1) {
    // SETcc, CMOVcc, MOVZX, MOVSX read the flags or leave them; IMUL writes CF and OF.
    return op === 0xaf ? undefined : before;
  }
  const kindOf = (row: number): number => (row === OP_ADD || row === OP_ADC ? LF_ADD : row === OP_OR || row === OP_AND || row === OP_XOR ? LF_LOGIC : LF_SUB) | size;
  if (op < 0x40 && (op & 7) <= 5) return kindOf((op >> 3) & 7);
  if (op === 0x81 || op === 0x83) return kindOf(insn.reg & 7);
  if (op === 0x85 || op === 0xa9 || op === 0x84 || op === 0xa8 || op === 0xf6) return LF_LOGIC | size;
  if (op === 0x80) return kindOf(insn.reg & 7);
  // F7 register forms (inlined: /0-/3): TEST, NOT (flags untouched), NEG (a SUB record).
  if (op === 0xf7) return (insn.reg & 7) < 2 ? LF_LOGIC | size : (insn.reg & 7) === 2 ? before : LF_SUB | size;
  if (op >= 0x40 && op <= 0x4f || (op === 0xff && regForm && (insn.reg & 7) < 2)) {
    const dec = op === 0xff ? (insn.reg & 7) === 1 : op >= 0x48;
    return (dec ? LF_SUB : LF_ADD) | size | LF_KEEP_CF;
  }
  if (op === 0x89 || op === 0x8b || (op >= 0xb8 && op <= 0xbf) || op === 0xc7 || op === 0x8d || op === 0x63 || (op >= 0x50 && op <= 0x5f) || op === 0x88 || op === 0xc6) return before;
  return undefined;
}

/**
 * Which inlined register forms leave flags nobody sees: a form that writes the whole record
 * without reading the flags (ADD OR AND SUB XOR CMP TEST, SHL SHR SAR by a count, register and
 * immediate forms) or writes some flags without reading any (IMUL, ROL ROR by a count; INC DEC,
 * whose kept CF then matters to nobody either), when the next instructions up to a whole-record
 * writer are register forms that do not read the flags and cannot fault (MOV, MOV imm, LEA,
 * MOVZX, MOVSX, MOVSXD, and the partial writers). A fault, exit, closure, flag reader or the
 * block's end in between keeps them.
 */
export function deadRecords(insns: readonly Instruction[]): boolean[] {
  const effect = insns.map((i) => registerForm(i, 'cpu') === undefined ? 'other' : recordEffect(i));
  return effect.map((e, k) => {
    if (e !== 'writes' && e !== 'partial') return false;
    let j = k + 1;
    while (j < insns.length && (effect[j] === 'none' || effect[j] === 'partial')) j++;
    return j < insns.length && effect[j] === 'writes';
  });
}

/** What an instruction that has a register form does to the flags (see deadRecords). */
function recordEffect(insn: Instruction): 'writes' | 'partial' | 'none' | 'other' {
  if (onlyAdvances(insn)) return 'none';
  const op = insn.opcode, regForm = insn.hasModrm && insn.mod === 3;
  if (insn.map === 1) {
    if (op === 0xb6 || op === 0xb7 || op === 0xbe || op === 0xbf) return 'none';
    return op === 0xaf ? 'partial' : 'other';
  }
  const row = op < 0x40 ? (op >> 3) & 7 : (op === 0x80 || op === 0x81 || op === 0x83) ? insn.reg & 7 : -1;
  if (row >= 0 && row !== OP_ADC && row !== OP_SBB) return 'writes';
  if (op === 0x85 || op === 0xa9 || op === 0x84 || op === 0xa8 || (op === 0xf6 && (insn.reg & 7) < 2)) return 'writes';
  // Group 2 by a nonzero count (a zero count has no register form): SHL SHR SAL SAR set every
  // flag, ROL ROR only CF and OF; RCL RCR read CF.
  if (op === 0xc1 || op === 0xd1) return (insn.reg & 7) >= 4 ? 'writes' : (insn.reg & 7) < 2 ? 'partial' : 'other';
  // By CL: a zero count leaves every flag, so a partial writer at most.
  if (op === 0xd3) return 'partial';
  if (op === 0xf7) return (insn.reg & 7) === 2 ? 'none' : 'writes';
  if (op === 0x69 || op === 0x6b || (op >= 0x40 && op <= 0x4f) || op === 0xff) return 'partial';
  if (op === 0x89 || op === 0x8b || (op >= 0xb8 && op <= 0xbf) || op === 0xc7 || op === 0x8d || (op === 0x63 && regForm)) return 'none';
  return 'other';
}

/**
 * Statements for a register-only form, or undefined; flags: the flag record's owner (cpu or
 * DEAD); record: the flag record before it where known (recordAfter).
 */
function registerForm(insn: Instruction, flags: string, record?: number): string | undefined {
  if (insn.vex !== 0 || insn.lock || insn.mode === 16) return undefined;
  if (onlyAdvances(insn)) return '';
  const op = insn.opcode, reg = insn.reg << 1, rm = insn.rm << 1, regForm = insn.hasModrm && insn.mod === 3;
  // SETcc has a byte operand whatever the prefixes.
  if (insn.map === 1 && op >= 0x90 && op <= 0x9f) return regForm ? setcc(insn, op & 15, record) : undefined;
  const size = insn.opSize;
  if (size === 1 && insn.map === 0) return byteCompare(insn, flags);
  if (size !== 4 && size !== 8) return undefined;
  if (insn.map === 1) {
    if (op >= 0xb6 && op <= 0xbf && (op & 7) >= 6 && regForm) return extend(insn, (op & 1) === 0 ? 1 : 2, size, op >= 0xbe);
    if (op === 0xaf && regForm) return imul(size, reg, rm, `$g${reg}`, `$g${reg + 1}`, flags);
    if (op >= 0x40 && op <= 0x4f && regForm) return cmov(op & 15, size, reg, `$g${rm}`, `$g${rm + 1}`, record);
    return undefined;
  }
  if (insn.map !== 0) return undefined;
  const immHi = size === 8 ? insn.immHi : 0;
  if (op < 0x40 && (op & 7) <= 5) {
    const row = (op >> 3) & 7, form = op & 7;
    if (form === 1 && regForm) return alu(row, size, rm, `$g${reg}`, `$g${reg + 1}`, flags);
    if (form === 3 && regForm) return alu(row, size, reg, `$g${rm}`, `$g${rm + 1}`, flags);
    if (form === 5) return alu(row, size, 0, `${insn.imm | 0}`, `${immHi | 0}`, flags);
    return undefined;
  }
  if ((op === 0x81 || op === 0x83) && regForm) return alu(insn.reg & 7, size, rm, `${insn.imm | 0}`, `${immHi | 0}`, flags);
  if (op === 0x85 && regForm) return test(size, rm, `$g${reg}`, `$g${reg + 1}`, flags);
  if (op === 0xa9) return test(size, 0, `${insn.imm | 0}`, `${immHi | 0}`, flags);
  if (op >= 0x40 && op <= 0x4f && insn.mode !== 64) return incDec(size, (op & 7) << 1, op >= 0x48);
  if (op === 0xff && regForm && (insn.reg & 7) < 2) return incDec(size, rm, (insn.reg & 7) === 1);
  if ((op === 0x89 || op === 0x8b) && regForm) {
    const d = op === 0x89 ? rm : reg, s = op === 0x89 ? reg : rm;
    return `$g${d} = $g${s}; $g${d + 1} = ${size === 8 ? `$g${s + 1}` : '0'};`;
  }
  if (op >= 0xb8 && op <= 0xbf) {
    const d = ((op & 7) | ((insn.rex & 1) << 3)) << 1;
    return `$g${d} = ${insn.imm | 0}; $g${d + 1} = ${immHi | 0};`;
  }
  if (op === 0xc7 && regForm && (insn.reg & 7) === 0) return `$g${rm} = ${insn.imm | 0}; $g${rm + 1} = ${immHi | 0};`;
  if (op === 0x8d && !regForm) return lea(insn, size, reg);
  if (op === 0x63 && regForm && insn.mode === 64) return movsxd(size, reg, `$g${rm}`);
  if ((op === 0xc1 || op === 0xd1) && regForm) return shift(insn.reg & 7, size, rm, op === 0xd1 ? 1 : insn.imm & 0xff, flags);
  if (op === 0xd3 && regForm && SHIFTS_BY_CL.includes(insn.reg & 7)) return shiftByCl(insn.reg & 7, size, rm, flags);
  if (op === 0xf7 && regForm) return unary(insn.reg & 7, size, rm, `${insn.imm | 0}`, `${immHi | 0}`, flags);
  if (op === 0x69 || op === 0x6b) return regForm ? imul(size, reg, rm, `${insn.imm | 0}`, `${immHi | 0}`, flags) : undefined;
  return undefined;
}

/** Memory and stack forms (see the module comment), or undefined. */
function memoryForm(insn: Instruction, name: string, end: number, record?: number): InlineForm | undefined {
  if (insn.vex !== 0 || insn.lock || insn.mode === 16 || insn.map !== 0 && insn.map !== 1) return undefined;
  const op = insn.opcode, size = insn.opSize;
  if (insn.map === 0 && op >= 0x50 && op <= 0x5f) return stackForm(insn, op);
  if (!insn.hasModrm || insn.mod === 3) return undefined;
  const xmm = vectorLoadTarget(insn);
  if (xmm >= 0) {
    const at = operand(insn, name, end);
    return at && { text: at.wrap(vectorLoad(xmm, loadText(insn.mode, insn.mem!.seg, 4, 'v', 'vh', at.hi), DECLINE)), faults: false };
  }
  if (size === 1 || size === 2) return insn.map === 0 ? narrowMemoryForm(insn, name, end) : undefined;
  if (size !== 4 && size !== 8) return undefined;
  const at = operand(insn, name, end);
  if (at === undefined) return undefined;
  const reg = insn.reg << 1, sg = insn.mem!.seg, immHi = size === 8 ? insn.immHi | 0 : 0, mode = insn.mode;
  const load = (v: string, vh: string): string => loadText(mode, sg, size, v, vh, at.hi);
  const read = (text: string): InlineForm => ({ text: at.wrap(text), faults: false });
  const write = (lo: string, hi: string): InlineForm => ({ text: at.wrap(storeText(mode, sg, size, lo, hi, at.hi)), faults: false });
  if (insn.map === 1) {
    if (op === 0xb6 || op === 0xb7) return read(`${loadText(mode, sg, op === 0xb6 ? 1 : 2, 'v', 'vh', at.hi)} $g${reg} = v; $g${reg + 1} = 0;`);
    if (op >= 0x40 && op <= 0x4f) return read(`${load('v', 'vh')} ${cmov(op & 15, size, reg, 'v', size === 8 ? 'vh' : '0', record)}`);
    return undefined;
  }
  if (op === 0x63 && insn.mode === 64) return read(`${loadText(mode, sg, 4, 'v', 'vh', at.hi)} ${movsxd(size, reg, 'v')}`);
  if (op === 0x8b) return read(`${load('v', 'vh')} $g${reg + 1} = ${size === 8 ? 'vh' : '0'}; $g${reg} = v;`);
  if (op === 0x89) return write(`$g${reg}`, size === 8 ? `$g${reg + 1}` : '0');
  if (op === 0xc7 && (insn.reg & 7) === 0) return write(`${insn.imm | 0}`, `${immHi}`);
  if (op < 0x40 && (op & 7) === 3) return read(`${load('b', 'bh')} ${alu((op >> 3) & 7, size, reg, 'b', 'bh', 'cpu')}`);
  // CMP and TEST with a memory destination write nothing: the flags of (memory, source).
  if (op === 0x39) return read(`${load('a', 'ah')} ${compare(size, 'sub', `$g${reg}`, `$g${reg + 1}`)}`);
  if (op === 0x85) return read(`${load('a', 'ah')} ${compare(size, 'test', `$g${reg}`, `$g${reg + 1}`)}`);
  if ((op === 0x81 || op === 0x83) && (insn.reg & 7) === 7) return read(`${load('a', 'ah')} ${compare(size, 'sub', `${insn.imm | 0}`, `${immHi}`)}`);
  // INC/DEC (Linux's per-CPU preempt count: incl %gs:...), read and written through one write probe.
  if (op === 0xff && (insn.reg & 7) < 2) {
    const dec = `${(insn.reg & 7) === 1}`;
    return { text: at.wrap(updateText(mode, sg, size, (a, ah, put) => size === 4
      ? call('incDec32', ['cpu', a, dec], (v) => put(v, '0'))
      : call('incDec64', ['cpu', a, ah, dec], (v) => put(v, 'half.hi')), at.hi)), faults: false };
  }
  return undefined;
}

/**
 * Byte forms with a memory operand: MOV stores (88, C6 /0), CMP (38, 3A, 80 /7) and TEST (84,
 * F6 /0-1); and the 16-bit MOV store (66 89). Read-modify-write forms stay with their closures.
 */
function narrowMemoryForm(insn: Instruction, name: string, end: number): InlineForm | undefined {
  const at = operand(insn, name, end);
  if (at === undefined) return undefined;
  const op = insn.opcode, size = insn.opSize, sg = insn.mem!.seg, mode = insn.mode;
  const read = (text: string): InlineForm => ({ text: at.wrap(`${loadText(mode, sg, 1, 'a', 'ah', at.hi)} ${text}`), faults: false });
  const write = (v: string): InlineForm => ({ text: at.wrap(storeText(mode, sg, size === 2 ? 2 : 1, v, '0', at.hi)), faults: false });
  if (size === 2) return op === 0x89 ? write(`$g${insn.reg << 1}`) : undefined;
  const imm = `${insn.imm & 0xff}`, reg = byteValue(insn, insn.reg);
  if (op === 0x88) return write(reg);
  if (op === 0xc6 && (insn.reg & 7) === 0) return write(imm);
  if (op === 0x38) return read(call('sub8', ['cpu', 'a', reg, '0']));
  if (op === 0x3a) return read(call('sub8', ['cpu', reg, 'a', '0']));
  if (op === 0x80 && (insn.reg & 7) === OP_CMP) return read(call('sub8', ['cpu', 'a', imm, '0']));
  if (op === 0x84) return read(call('logic8', ['cpu', `a & ${reg}`]));
  if (op === 0xf6 && (insn.reg & 7) < 2) return read(call('logic8', ['cpu', `a & ${imm}`]));
  return undefined;
}

/** The typed views of the main RAM buffer by access size, as the block's prologue names them (block-compile.ts). */
const VIEW = { 1: ['ram8', 'o'], 2: ['ram16', 'o >>> 1'], 4: ['ram32', 'o >>> 2'], 8: ['ram32', 'o >>> 2'] } as const;

/**
 * Statements that find the slot view offset o of a size-byte access at sg:ea (a const named ea)
 * and run hit (o >= 0, slot i) or a DECLINE: the segment's fast limit (legacy modes) and the TLB
 * probe, inlined from withinLimit, slotOf and probeAt; what they decline (limits, misses,
 * MMIO, code pages, page crossings) the instruction's closure runs, which checks everything. The
 * segment's base and fast limits are $sBase<sg>, $sRead<sg>, $sWrite<sg>, which the block reads
 * once at entry (block-compile.ts).
 */
function access(mode: number, sg: number, size: number, kind: 'Read' | 'Write', hit: string, hi?: string): string {
  if (hi !== undefined) {
    // The operand as int32 halves (operand(): lo, and hi): tlb.ts probePair on the pair tags.
    return call('probePair', [kind === 'Read' ? 'tlbRLo' : 'tlbWLo', 'tlbHi', 'tlbAt8', 'lo', hi, `${size}`],
      (o) => `const o = ${o}; if (o >= 0) { ${hit} } else { ${DECLINE} }`);
  }
  const probe = (lin: string): string => call('slotOf', [lin], (i) => `const i = ${i}; ` +
    call('probeAt', [kind === 'Read' ? 'tlbR' : 'tlbW', 'tlbAt', 'i', lin, `${size}`], (o) => `const o = ${o}; if (o >= 0) { ${hit} } else { ${DECLINE} }`));
  if (mode === 64) return sg >= 4 ? `{ const lin = ea + $sBase${sg}; ${probe('lin')} }` : probe('ea');
  return call('withinLimit', [`$s${kind}${sg}`, `$sBase${sg}`, 'ea', `${size}`],
    (lin) => `const lin = ${lin}; if (lin >= 0) { ${probe('lin')} } else { ${DECLINE} }`);
}

/** Statements declaring v (and vh: the high half of an 8-byte value) loaded from sg:ea (or from the pair lo, hi). */
function loadText(mode: number, sg: number, size: 1 | 2 | 4 | 8, v: string, vh: string, hi?: string): string {
  const [view, index] = VIEW[size];
  const hit = size === 8
    ? `const x = ${index}; ${v} = ${view}[x]; ${vh} = ${view}[x + 1];`
    : `${v} = ${view}[${index}];`;
  return `let ${v}${size === 8 ? `, ${vh}` : ''}; ${access(mode, sg, size, 'Read', hit, hi)}`;
}

/** Statements storing (lo, hi) (expressions, evaluated once on either path) at sg:ea (or at the pair lo, pairHi). */
function storeText(mode: number, sg: number, size: 1 | 2 | 4 | 8, lo: string, hi: string, pairHi?: string): string {
  const [view, index] = VIEW[size];
  const hit = size === 8
    ? `const x = ${index}; ${view}[x] = $lo; ${view}[x + 1] = $hi;`
    : `${view}[${index}] = $lo;`;
  return `const $lo = ${lo}, $hi = ${hi}; ${access(mode, sg, size, 'Write', hit, pairHi)}`;
}

/**
 * Statements that read the size-byte operand at sg:ea (or the pair lo, pairHi) as (a, ah) and
 * write back what update makes of it (put(v, vh)), behind one write probe: a hit can neither
 * fault nor reach a page holding decoded code, so what update records (the flags) never happens
 * without the write; whatever misses declines before anything.
 */
function updateText(mode: number, sg: number, size: 4 | 8, update: (a: string, ah: string, put: (v: string, vh: string) => string) => string, pairHi?: string): string {
  const [view, index] = VIEW[size];
  const put = (v: string, vh: string): string => size === 8 ? `${view}[x] = ${v}; ${view}[x + 1] = ${vh};` : `${view}[x] = ${v};`;
  const hit = `const x = ${index}; const a = ${view}[x]${size === 8 ? `, ah = ${view}[x + 1]` : ''}; ${update('a', size === 8 ? 'ah' : '0', put)}`;
  return access(mode, sg, size, 'Write', hit, pairHi);
}

/** Flags of memory operand (a, ah) against (b, bh): CMP (sub) or TEST. */
function compare(size: 4 | 8, kind: 'sub' | 'test', b: string, bh: string): string {
  if (kind === 'test') return size === 4 ? call('logic32', ['cpu', `a & ${b}`]) : call('logic64', ['cpu', `a & ${b}`, `ah & ${bh}`]);
  return size === 4 ? call('sub32', ['cpu', 'a', b, '0']) : call('sub64', ['cpu', 'a', 'ah', b, bh, '0']);
}

/** 50+r PUSH, 58+r POP with the mode's default stack operand size (ops-stack pushReg/popReg). */
function stackForm(insn: Instruction, op: number): InlineForm | undefined {
  const size = insn.mode === 64 ? (insn.opsizePrefix ? 2 : 8) : insn.opSize;
  if (size !== 4 && size !== 8) return undefined;
  const d = ((op & 7) | ((insn.rex & 1) << 3)) << 1;
  if (insn.mode === 64 && size === 8) {
    if (op < 0x58) return { text: `{ const $v = $g${d}, $vh = $g${d + 1}; ${push64('$v', '$vh', '')} }`, faults: false };
    return { text: `{ ${pop64((v, vh, commit) => `${commit} $g${d + 1} = ${vh}; $g${d} = ${v};`)} }`, faults: false };
  }
  // stack.ts push/pop move RSP in the register file: RSP goes there before and comes back after.
  const toFile = `rf[${RSP}] = $g${RSP}; rf[${RSP + 1}] = $g${RSP + 1};`, fromFile = `$g${RSP} = rf[${RSP}]; $g${RSP + 1} = rf[${RSP + 1}];`;
  const viaFile = op < 0x58
    ? `${toFile} push(cpu, ${size}, $g${d}, ${size === 8 ? `$g${d + 1}` : '0'}); ${fromFile}`
    : `${toFile} const v = pop(cpu, ${size}); ${fromFile} $g${d + 1} = ${size === 8 ? 'half.hi' : '0'}; $g${d} = v;`;
  return { text: `{ ${slow(viaFile, op < 0x58)} }`, faults: true };
}

// 64-bit code, RSP below 2^48 in magnitude (a canonical stack): the slot's address is exact in a
// double and cannot wrap, SS has no base, and the access is inlined like any other (a fault or
// exit leaves RSP as it was: it moves after the access, as push and pop do). Otherwise a DECLINE.
const NEAR = `$g${RSP + 1} >= -65536 && $g${RSP + 1} < 65536`, TOP = `$g${RSP + 1} * 4294967296 + ($g${RSP} >>> 0)`;
const setRsp = (v: string): string => `$g${RSP} = ${v} | 0; $g${RSP + 1} = Math.floor(${v} / 4294967296) | 0;`;

/** Statements pushing the 8-byte value (v, vh) (names), then `after`; or a DECLINE. */
export function push64(v: string, vh: string, after: string): string {
  if (PAIR_PROBES.on) {
    // RSP as int32 halves (see operand()): a low half that would borrow declines.
    return `if (($g${RSP} >>> 0) >= 8) { const lo = ($g${RSP} - 8) | 0; ${storeText(64, SEG_SS, 8, v, vh, `$g${RSP + 1}`)} $g${RSP} = lo; ${after} } else { ${DECLINE} }`;
  }
  return `if (${NEAR}) { const ea = ${TOP} - 8; ${storeText(64, SEG_SS, 8, v, vh)} ${setRsp('ea')} ${after} } else { ${DECLINE} }`;
}

/**
 * Statements loading the 8-byte stack top into v, vh from RAM through the TLB, then
 * then(v, vh, commit), where commit releases it and extra more bytes (RET imm16); anything the
 * probe declines is a DECLINE before any read (the closure reads once: a device is never read
 * twice).
 */
export function pop64(then: (v: string, vh: string, commit: string) => string, extra = 0): string {
  if (PAIR_PROBES.on) {
    // RSP as int32 halves (see operand()): a low half that would carry declines.
    const hit = `const x = o >>> 2; const v = ram32[x], vh = ram32[x + 1]; ${then('v', 'vh', `$g${RSP} = (lo + ${8 + extra}) | 0;`)}`;
    return `if (($g${RSP} >>> 0) <= ${0xffffffff - 8 - extra}) { const lo = $g${RSP}; ${access(64, SEG_SS, 8, 'Read', hit, `$g${RSP + 1}`)} } else { ${DECLINE} }`;
  }
  const hit = `const x = o >>> 2; const v = ram32[x], vh = ram32[x + 1]; ${then('v', 'vh', setRsp(`(ea + ${8 + extra})`))}`;
  return `if (${NEAR}) { const ea = ${TOP}; ${access(64, SEG_SS, 8, 'Read', hit)} } else { ${DECLINE} }`;
}

/** Statements testing whether hi is a canonical address's high half (ops-control canonicalHigh), then use(v). */
export function canonicalText(hi: string, use: (v: string) => string): string {
  return call('canonicalHigh', ['cpu.la57', hi], use);
}

/** The stack segment's slot. */
const SEG_SS = 2;

/**
 * Whether memory operands of 64-bit code are probed as int32 halves (operand()); the wasm tier
 * turns it off while it takes a block's text (its TLB mirror has the double tags only).
 */
export const PAIR_PROBES = { on: true };

/**
 * A memory operand for the forms above: wrap(body) runs body where its access can be made (hi:
 * probe the pair (lo, hi) that wrap declares; undefined: the double ea wrap declares). In 64-bit
 * code a base register or RIP plus a displacement through DS/ES/SS becomes the pair: lo is the
 * low half's int32 sum and hi the register's high half, and a sum that would carry into the
 * high half declines (the closure takes it); everything else is address()'s ea.
 */
function operand(insn: Instruction, name: string, end: number): { wrap(body: string): string; hi?: string } | undefined {
  const m = insn.mem;
  if (PAIR_PROBES.on && m !== null && insn.mode === 64 && insn.addrSize === 8 && m.base !== REG_NONE && m.index === REG_NONE && m.seg < 4 && (m.disp | 0) === m.disp) {
    const rip = m.base === REG_RIP, d = rip ? end + m.disp : m.disp;
    const rlo = rip ? 's0' : `$g${m.base << 1}`, hi = rip ? 's1' : `$g${(m.base << 1) + 1}`;
    const noCarry = d >= 0 ? `(lo >>> 0) >= (${rlo} >>> 0)` : `(lo >>> 0) < (${rlo} >>> 0)`;
    return { wrap: (body) => `{ const lo = (${rlo} + ${d}) | 0; if (${noCarry}) { ${body} } else { ${DECLINE} } }`, hi };
  }
  const ea = address(insn, name, end);
  return ea === undefined ? undefined : { wrap: (body) => `{ const ea = ${ea}; ${body} }` };
}

/**
 * The effective address of insn's memory operand as an expression (address.ts effectiveAddress:
 * base + index * scale + disp at the address size; 64-bit: a signed number, exact through the
 * same fast path, else effectiveAddress itself). RIP-relative: the next instruction's RIP is s0
 * plus the block offset end. undefined: 16-bit addresses and 32-bit RIP-relative ones.
 */
function address(insn: Instruction, name: string, end: number): string | undefined {
  const m = insn.mem;
  if (m === null || insn.addrSize === 2) return undefined;
  const disp = m.disp | 0;
  if (disp !== m.disp) return undefined;
  const b = m.base, x = m.index;
  if (insn.addrSize === 4) {
    if (b === REG_RIP) return undefined;
    const terms = [`${disp}`];
    if (b !== REG_NONE) terms.push(`$g${b << 1}`);
    if (x !== REG_NONE) terms.push(`Math.imul($g${x << 1}, ${m.scale})`);
    return `(${terms.join(' + ')}) >>> 0`;
  }
  if (b === REG_RIP) return `s1 * 4294967296 + (s0 >>> 0) + ${end + disp}`;
  // Registers whose high halves are in [-2^16, 2^16) (canonical 48-bit values): the exact sum.
  const guards: string[] = [], terms = [`${disp}`];
  if (b !== REG_NONE) {
    guards.push(`$g${(b << 1) + 1} >= -65536 && $g${(b << 1) + 1} < 65536`);
    terms.push(`$g${(b << 1) + 1} * 4294967296 + ($g${b << 1} >>> 0)`);
  }
  if (x !== REG_NONE) {
    guards.push(`$g${(x << 1) + 1} >= -65536 && $g${(x << 1) + 1} < 65536`);
    terms.push(`($g${(x << 1) + 1} * 4294967296 + ($g${x << 1} >>> 0)) * ${m.scale}`);
  }
  if (guards.length === 0) return `${disp}`;
  // effectiveAddress reads the register file: the base and index registers go there first.
  const toFile = [b, x].filter((n) => n !== REG_NONE).map((n) => `rf[${n << 1}] = $g${n << 1}, rf[${(n << 1) + 1}] = $g${(n << 1) + 1}, `).join('');
  return `(${guards.join(' && ')} ? ${terms.join(' + ')} : (${toFile}effectiveAddress(cpu, ${name})))`;
}

/** Group-1 operation `row` on register d (regs index) and source (b, bh) expressions. */
function alu(row: number, size: 4 | 8, d: number, b: string, bh: string, flags: string): string {
  const write = row !== OP_CMP;
  if (row === OP_OR || row === OP_AND || row === OP_XOR) {
    const o = row === OP_OR ? '|' : row === OP_AND ? '&' : '^';
    if (size === 4) return call('logic32', [flags, `$g${d} ${o} ${b}`], (v) => `$g${d} = ${v}; $g${d + 1} = 0;`);
    return `{ const lo = $g${d} ${o} ${b}, hi = $g${d + 1} ${o} ${bh}; ${call('logic64', [flags, 'lo', 'hi'])} $g${d} = lo; $g${d + 1} = hi; }`;
  }
  const adds = row === OP_ADD || row === OP_ADC;
  const c = row === OP_ADC || row === OP_SBB ? 'carry(cpu)' : '0';
  if (size === 4) {
    return call(adds ? 'add32' : 'sub32', [flags, `$g${d}`, b, c], (v) => write ? `$g${d} = ${v}; $g${d + 1} = 0;` : '');
  }
  return call(adds ? 'add64' : 'sub64', [flags, `$g${d}`, `$g${d + 1}`, b, bh, c],
    (v) => write ? `$g${d + 1} = half.hi; $g${d} = ${v};` : '');
}

/**
 * Group 2 by an immediate count on register d, as ops-shift's group2: a masked count of 0 is
 * left to the closure (it still zero-extends a 32-bit register). Flags DEAD: no flags at all.
 */
function shift(op: number, size: 4 | 8, d: number, raw: number, flags: string): string | undefined {
  const c = raw & (size === 8 ? 0x3f : 0x1f);
  return c === 0 ? undefined : shiftText(op, size, d, `${c}`, flags);
}

/** D3 forms inlined: ROL ROR SHL SHR SAR by CL (RCL/RCR read CF, /6 is an alias: their closures). */
const SHIFTS_BY_CL = [0, 1, 4, 5, 7];

/**
 * Group 2 by CL on register d: the masked count decides at run time; a count of 0 changes no
 * flag and only zero-extends a 32-bit register (as ops-shift's group2).
 */
function shiftByCl(op: number, size: 4 | 8, d: number, flags: string): string {
  return `{ const $cl = $g2 & ${size === 8 ? 0x3f : 0x1f}; if ($cl !== 0) ${shiftText(op, size, d, '$cl', flags)} else { ${size === 4 ? `$g${d + 1} = 0;` : ''} } }`;
}

/** Group 2 on register d by a nonzero count (text: a literal or a local). */
function shiftText(op: number, size: 4 | 8, d: number, c: string, flags: string): string {
  const cfIn = op === 2 || op === 3 ? 'carry(cpu)' : '0';
  const flagsOf = (width: string, v: string, vh: string): string =>
    flags === DEAD ? '' : call('shiftFlags', ['cpu', `${op}`, width, v, vh, 'shiftOut.cf', 'shiftOut.of']);
  if (size === 8) {
    return call(SHIFT64[op]!, [`$g${d}`, `$g${d + 1}`, `${c}`, cfIn], (v) => `{ const v = ${v}, vh = shiftOut.hi;` +
      ` ${flagsOf('8', 'v', 'vh')} $g${d} = v; $g${d + 1} = vh; }`);
  }
  const args = op === 5 ? [`${c}`, '32'] : op === 2 || op === 3 ? [`${c}`, '32', '-1', cfIn] : [`${c}`, '32', '-1'];
  return call(SHIFT32[op]!, [`$g${d} >>> 0`, ...args], (v) => `{ const v = ${v} | 0;` +
    ` ${flagsOf('4', 'v', '0')} $g${d} = v; $g${d + 1} = 0; }`);
}

/**
 * F7 on register d: /0 and /1 TEST with (b, bh), /2 NOT (no flags), /3 NEG (the flags of 0 - d,
 * as alu.ts neg); MUL, IMUL, DIV and IDIV stay with their closures.
 */
function unary(sub: number, size: 4 | 8, d: number, b: string, bh: string, flags: string): string | undefined {
  if (sub < 2) return test(size, d, b, bh, flags);
  if (sub === 2) return `$g${d} = ~$g${d}; $g${d + 1} = ${size === 8 ? `~$g${d + 1}` : '0'};`;
  if (sub !== 3) return undefined;
  if (size === 4) return call('sub32', [flags, '0', `$g${d}`, '0'], (v) => `$g${d} = ${v}; $g${d + 1} = 0;`);
  return call('sub64', [flags, '0', '0', `$g${d}`, `$g${d + 1}`, '0'], (v) => `$g${d + 1} = half.hi; $g${d} = ${v};`);
}

/** IMUL reg d, register s, (b, bh): the signed product truncated to the operand size; flags DEAD: no flags. */
function imul(size: 4 | 8, d: number, s: number, b: string, bh: string, flags: string): string {
  const flagsOf = (o: string): string => flags === DEAD ? '' : call('mulFlags', ['cpu', o]);
  if (size === 8) {
    return call('imulPair', [`$g${s}`, `$g${s + 1}`, b, bh], (o) => `$g${d} = wide.w0; $g${d + 1} = wide.w1; ${flagsOf(o)}`);
  }
  return call('imul32', [`$g${s}`, b], (o) => `$g${d} = wide.w0; $g${d + 1} = 0; ${flagsOf(o)}`);
}

/**
 * CMOVcc reg d, (v, vh): the source is read whatever the condition (a memory source faults
 * either way); a 32-bit destination is zero-extended even when the condition is false where the
 * CPU model does that (undefined-flags.ts cmovFalseWritesReg, as ops-move's cmov).
 */
function cmov(cc: number, size: 4 | 8, d: number, v: string, vh: string, record: number | undefined): string {
  if (size === 8) return conditionText(cc, (t) => `if (${t}) { $g${d} = ${v}; $g${d + 1} = ${vh}; }`, record);
  return conditionText(cc, (t) => cmovFalseWritesReg()
    ? `if (${t}) $g${d} = ${v}; $g${d + 1} = 0;`
    : `if (${t}) { $g${d} = ${v}; $g${d + 1} = 0; }`, record);
}

/** SETcc r8 (register form). */
function setcc(insn: Instruction, cc: number, record: number | undefined): string {
  const { i, shift } = byteRegister(insn.rm, insn.rex);
  return conditionText(cc, (t) => `$g${i} = ($g${i} & ${~(0xff << shift)}) | (${t} ? ${1 << shift} : 0);`, record);
}

/** The value of byte register n (ModRM numbering; regs.ts byteRegister: 4..7 without REX are AH CH DH BH) as text. */
function byteValue(insn: Instruction, n: number): string {
  const { i, shift } = byteRegister(n, insn.rex);
  return `(($g${i} >> ${shift}) & 0xff)`;
}

/**
 * Byte CMP and TEST of registers and immediates (they write only the flag record): 38/3A/3C
 * CMP, 80 /7 CMP, 84 and A8 TEST, F6 /0 (and its alias /1) TEST; register operands only.
 */
function byteCompare(insn: Instruction, flags: string): string | undefined {
  const op = insn.opcode, regForm = insn.hasModrm && insn.mod === 3, imm = `${insn.imm & 0xff}`;
  const al = byteValue(insn, 0), rm = (): string => byteValue(insn, insn.rm), reg = (): string => byteValue(insn, insn.reg);
  const cmp = (a: string, b: string): string => call('sub8', [flags, a, b, '0']);
  const test = (a: string, b: string): string => call('logic8', [flags, `${a} & ${b}`]);
  if (op === 0x3c) return cmp(al, imm);
  if (op === 0xa8) return test(al, imm);
  if (!regForm) return undefined;
  if (op === 0x38) return cmp(rm(), reg());
  if (op === 0x3a) return cmp(reg(), rm());
  if (op === 0x80 && (insn.reg & 7) === OP_CMP) return cmp(rm(), imm);
  if (op === 0x84) return test(rm(), reg());
  if (op === 0xf6 && (insn.reg & 7) < 2) return test(rm(), imm);
  return undefined;
}

/** MOVSXD reg d, r/m32 (v): sign-extended to 64 bits; a 32-bit destination is a plain move. */
function movsxd(size: 4 | 8, d: number, v: string): string {
  return size === 8 ? `{ const x = ${v}; $g${d} = x; $g${d + 1} = x >> 31; }` : `$g${d} = ${v}; $g${d + 1} = 0;`;
}

/** TEST register d with (b, bh). */
function test(size: 4 | 8, d: number, b: string, bh: string, flags: string): string {
  if (size === 4) return call('logic32', [flags, `$g${d} & ${b}`]);
  return call('logic64', [flags, `$g${d} & ${b}`, `$g${d + 1} & ${bh}`]);
}

function incDec(size: 4 | 8, d: number, dec: boolean): string {
  if (size === 4) return call('incDec32', ['cpu', `$g${d}`, `${dec}`], (v) => `$g${d} = ${v}; $g${d + 1} = 0;`);
  return call('incDec64', ['cpu', `$g${d}`, `$g${d + 1}`, `${dec}`], (v) => `$g${d + 1} = half.hi; $g${d} = ${v};`);
}

/** MOVZX/MOVSX reg, r8/r16 (register source): to a 32- or 64-bit destination. */
function extend(insn: Instruction, from: 1 | 2, size: 4 | 8, signed: boolean): string {
  const d = insn.reg << 1;
  let src: string;
  if (from === 2) src = signed ? `(($g${insn.rm << 1} << 16) >> 16)` : `($g${insn.rm << 1} & 0xffff)`;
  else {
    const { i, shift } = byteRegister(insn.rm, insn.rex);
    src = signed ? `(($g${i} << ${24 - shift}) >> 24)` : `(($g${i} >> ${shift}) & 0xff)`;
  }
  // The upper half: zero, or for a sign-extended 64-bit destination the sign.
  return `{ const x = ${src}; $g${d} = x; $g${d + 1} = ${signed && size === 8 ? 'x >> 31' : '0'}; }`;
}

/**
 * LEA: base + index * scale + disp at the address size, truncated or zero-extended to the
 * operand size (address.ts effectiveAddress / effectiveAddressPair compute the same sum).
 */
function lea(insn: Instruction, size: 4 | 8, d: number): string | undefined {
  const m = insn.mem;
  if (m === null || m.base > 15 || insn.addrSize === 2 || m.index > 15) return undefined;
  const base = m.base === REG_NONE ? -1 : m.base << 1, index = m.index === REG_NONE ? -1 : m.index << 1;
  const disp = m.disp | 0;
  if (disp !== m.disp) return undefined;
  if (insn.addrSize === 4) {
    const terms = [`${disp}`];
    if (base >= 0) terms.push(`$g${base}`);
    if (index >= 0) terms.push(m.scale === 1 ? `$g${index}` : `($g${index} << ${Math.log2(m.scale)})`);
    return `$g${d} = (${terms.join(' + ')}) | 0; $g${d + 1} = 0;`;
  }
  // 64-bit address: the low halves summed exactly (< 2^36), the carry into the high halves.
  const lo = [`${disp}`], hi: string[] = [];
  if (base >= 0) { lo.push(`($g${base} >>> 0)`); hi.push(`$g${base + 1}`); }
  if (index >= 0) { lo.push(`($g${index} >>> 0) * ${m.scale}`); hi.push(`$g${index + 1} * ${m.scale}`); }
  if (size === 4) return `$g${d} = (${lo.join(' + ')}) | 0; $g${d + 1} = 0;`;
  hi.push('Math.floor(l / 4294967296)');
  return `{ const l = ${lo.join(' + ')}; $g${d} = l | 0; $g${d + 1} = (${hi.join(' + ')}) | 0; }`;
}
