/**
 * Lazy arithmetic flags. An ALU operation does not compute CF PF AF ZF SF OF: it records what it
 * did (lfOp: kind and size, the operands and the result) and the six flags are derived from that
 * record only when something reads them. `flags` stays the architectural RFLAGS view: reading it
 * materialises the record, writing it drops the record. So every reader and writer that uses
 * `flags` (PUSHF, interrupts, getState, shifts, MUL...) sees exactly the flags an eager
 * computation would have left, and only the hot paths (ALU results, Jcc/SETcc/CMOVcc, ADC/SBB
 * carry-in) use the record directly.
 *
 * The formulas derive each flag from (a, b, r) alone, carry-in included: carry out of the top
 * bit is majority(a, b, not r) for ADD/ADC and majority(not a, b, r) for SUB/SBB, which is why
 * ADC and SBB record the same kinds as ADD and SUB.
 */
import { AF as AF_, ARITH_FLAGS as ARITH_FLAGS_, CF as CF_, OF as OF_, SF as SF_, ZF as ZF_ } from './context.js';
import { condition, PARITY } from './flags.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const AF = AF_, ARITH_FLAGS = ARITH_FLAGS_, CF = CF_, OF = OF_, SF = SF_, ZF = ZF_;

/** Kinds, or'ed with the operand size (1, 2, 4, 8) into lfOp; 0 = no record (flagBits exact). */
export const LF_ADD = 0x10, LF_SUB = 0x20, LF_LOGIC = 0x40;
/** INC/DEC: as ADD/SUB, but CF is the one in flagBits (kept from before). */
export const LF_KEEP_CF = 0x80;
/** With LF_KEEP_CF: OF too is the one in flagBits (a rotate or multiply wrote CF and OF over a record). */
export const LF_KEEP_OF = 0x200;
/**
 * SF ZF PF from the result, CF OF AF as given (in lfA, as RFLAGS bits): shifts, whose CF/OF/AF
 * rules (undefined-flags.ts) are decided when they run.
 */
export const LF_SZP = 0x100;
const ADD4 = LF_ADD | 4, SUB4 = LF_SUB | 4, LOGIC4 = LF_LOGIC | 4, ADD8 = LF_ADD | 8, SUB8 = LF_SUB | 8, LOGIC8 = LF_LOGIC | 8;
/** The module-level names recordSzp uses (see alu.ts ALU_INLINE_SCOPE). */
export const LAZY_FLAGS_INLINE_SCOPE = { LF_SZP, LF_ADD, LF_SUB, LF_KEEP_CF, LF_KEEP_OF, LF_LOGIC, CF, OF, ADD4, SUB4, LOGIC4, ADD8, SUB8, LOGIC8, condition } as const;

/** The flag state every ExecContext carries (see the module comment). */
export interface FlagState {
  /** RFLAGS; its arithmetic bits are stale while lfOp !== 0 (except CF under LF_KEEP_CF). */
  flagBits: number;
  /** The last flag-producing operation: kind | size, or 0. */
  lfOp: number;
  /** Operands and result: low halves (int32; sizes 1/2 zero-extended) and, for size 8, high halves. */
  lfA: number; lfAh: number; lfB: number; lfBh: number; lfR: number; lfRh: number;
}

/**
 * A zero that V8 stores as a double. Number fields that will hold values outside the 31-bit
 * small-integer range (int32 operands, addresses, counters) start with it: the field is a double
 * field from the start, so its first large value does not give the object a new hidden class,
 * which would deoptimise every function compiled against the old one (about 150 deopts in a
 * Linux boot). -0 behaves as 0 everywhere these fields are used (===, arithmetic, BigInt, printing).
 */
export const F64_ZERO = -0;

/**
 * The lazy flag fields with `flags` as an accessor: executor contexts extend this (the soft CPU's
 * state, the assists' context). Initial RFLAGS = 2 (bit 1 reads as 1).
 */
export class LazyFlags implements FlagState {
  flagBits = 2;
  lfOp = 0;
  lfA = F64_ZERO; lfAh = F64_ZERO; lfB = F64_ZERO; lfBh = F64_ZERO; lfR = F64_ZERO; lfRh = F64_ZERO;

  get flags(): number {
    return this.lfOp === 0 ? this.flagBits : materialise(this);
  }

  set flags(v: number) {
    this.flagBits = v;
    this.lfOp = 0;
  }
}

/** Folds the record into flagBits (lfOp becomes 0) and returns RFLAGS. */
export function materialise(c: FlagState): number {
  const op = c.lfOp, size = op & 15;
  const a = c.lfA, b = c.lfB, r = c.lfR;
  let f: number;
  // 32-bit records first, branch-free (the usual case): SF is bit 31 moved to bit 7, OF bit 31
  // moved to bit 11, CF bit 31 moved to bit 0.
  const szp32 = PARITY[r & 0xff]! | (r === 0 ? ZF : 0) | ((r >>> 24) & SF);
  if (op === ADD4) {
    f = szp32 | ((a ^ b ^ r) & AF) | (((a & b) | ((a | b) & ~r)) >>> 31) | ((((a ^ r) & (b ^ r)) >>> 20) & OF);
  } else if (op === SUB4) {
    f = szp32 | ((a ^ b ^ r) & AF) | (((~a & b) | ((~a | b) & r)) >>> 31) | ((((a ^ b) & (a ^ r)) >>> 20) & OF);
  } else if (op === LOGIC4) {
    f = szp32;
  } else if (size === 8) {
    const rh = c.lfRh;
    f = PARITY[r & 0xff]! | ((r | rh) === 0 ? ZF : 0) | (rh < 0 ? SF : 0);
    if (op & LF_SZP) f |= a;
    else if ((op & LF_LOGIC) === 0) {
      const ah = c.lfAh, bh = c.lfBh;
      f |= (a ^ b ^ r) & AF;
      if (op & LF_ADD) {
        f |= (((ah & bh) | ((ah | bh) & ~rh)) >>> 31) | (((ah ^ rh) & (bh ^ rh)) < 0 ? OF : 0);
      } else {
        f |= (((~ah & bh) | ((~ah | bh) & rh)) >>> 31) | (((ah ^ bh) & (ah ^ rh)) < 0 ? OF : 0);
      }
    }
  } else {
    const top = size * 8 - 1;
    const m = size === 4 ? r : r & (size === 1 ? 0xff : 0xffff);
    f = PARITY[r & 0xff]! | (m === 0 ? ZF : 0) | (((m >>> top) & 1) !== 0 ? SF : 0);
    if (op & LF_SZP) f |= a;
    else if ((op & LF_LOGIC) === 0) {
      f |= (a ^ b ^ r) & AF;
      if (op & LF_ADD) {
        f |= ((((a & b) | ((a | b) & ~r)) >>> top) & 1) | ((((a ^ r) & (b ^ r)) >>> top) & 1 ? OF : 0);
      } else {
        f |= ((((~a & b) | ((~a | b) & r)) >>> top) & 1) | ((((a ^ b) & (a ^ r)) >>> top) & 1 ? OF : 0);
      }
    }
  }
  if (op & LF_KEEP_CF) f = (f & ~CF) | (c.flagBits & CF);
  if (op & LF_KEEP_OF) f = (f & ~OF) | (c.flagBits & OF);
  const v = (c.flagBits & ~ARITH_FLAGS) | f;
  c.flagBits = v;
  c.lfOp = 0;
  return v;
}

/** Records SF ZF PF of (r, rh) at size with CF OF AF = cfOfAf (RFLAGS bits). */
export function recordSzp(c: FlagState, size: number, r: number, rh: number, cfOfAf: number): void {
  c.lfOp = LF_SZP | size; c.lfR = r; c.lfRh = rh; c.lfA = cfOfAf;
}

/**
 * Writes CF, or CF and OF (mask), to bits, leaving SF ZF AF PF as they are, without
 * materialising: over an ADD/SUB/logic record the written bits go to flagBits and the record is
 * marked to take them from there (LF_KEEP_CF, LF_KEEP_OF); a shift's record holds them in lfA.
 * Rotates, MUL/IMUL and BT write only these. One exit, no comment inside: compiled blocks put
 * this body in place of a call (helper-inline.ts).
 */
export function writeCfOf(c: FlagState, mask: number, bits: number): void {
  const op = c.lfOp;
  if ((op & LF_SZP) !== 0) c.lfA = (c.lfA & ~mask) | bits;
  else {
    c.flagBits = (c.flagBits & ~mask) | bits;
    if (op !== 0) c.lfOp = op | LF_KEEP_CF | ((mask & OF) !== 0 ? LF_KEEP_OF : 0);
  }
}

/** CF (0 or 1) without materialising the other flags: the carry-in of ADC/SBB/RCL/RCR. */
export function carry(c: FlagState): number {
  const op = c.lfOp;
  if (op === 0 || (op & (LF_KEEP_CF | LF_LOGIC | LF_SZP)) !== 0) {
    return (op & LF_KEEP_CF) !== 0 ? c.flagBits & CF : (op & LF_LOGIC) !== 0 ? 0 : (op & LF_SZP) !== 0 ? c.lfA & CF : c.flagBits & CF;
  }
  const size = op & 15;
  if (size === 8) {
    const ah = c.lfAh, bh = c.lfBh, rh = c.lfRh;
    return op & LF_ADD ? ((ah & bh) | ((ah | bh) & ~rh)) >>> 31 : ((~ah & bh) | ((~ah | bh) & rh)) >>> 31;
  }
  const a = c.lfA, b = c.lfB, r = c.lfR, top = size * 8 - 1;
  return op & LF_ADD ? (((a & b) | ((a | b) & ~r)) >>> top) & 1 : (((~a & b) | ((~a | b) & r)) >>> top) & 1;
}

/**
 * Condition cc (0..15, O NO B AE E NE BE A S NS P NP L GE LE G) on the current flags. ADD,
 * SUB/CMP and logic records of every size (the usual producers before a Jcc; 32- and 64-bit
 * ones first), CF and OF kept in flagBits included, are decided from the record without
 * materialising (the record conditions below); everything else (PF, shift records) reads the
 * architectural flags. Compiled blocks call it where the flags come from before the block; where
 * a block knows which record an earlier instruction of its own left, it puts that record's
 * condition in place instead (RECORD_CONDITIONS, block-inline.ts conditionText).
 */
export function conditionOf(c: FlagState & { readonly flags: number }, cc: number): boolean {
  const kept = c.lfOp, op = kept & ~(LF_KEEP_CF | LF_KEEP_OF), bits = c.flagBits;
  let t = false;
  if (op === 0 || (cc >> 1) === 5 || (op & LF_SZP) !== 0) t = condition(c.flags, cc);
  else if (op === SUB4) t = subCondition32(cc, c.lfA, c.lfB, c.lfR, kept, bits);
  else if (op === LOGIC4) t = logicCondition32(cc, c.lfR, kept, bits);
  else if (op === ADD4) t = addCondition32(cc, c.lfA, c.lfB, c.lfR, kept, bits);
  else if (op === SUB8) t = subCondition64(cc, c.lfR, c.lfAh, c.lfBh, c.lfRh, kept, bits);
  else if (op === ADD8) t = addCondition64(cc, c.lfR, c.lfAh, c.lfBh, c.lfRh, kept, bits);
  else if (op === LOGIC8) t = logicCondition64(cc, c.lfR, c.lfRh, kept, bits);
  else if ((op & 12) === 0) t = narrowCondition(cc, op, c.lfA, c.lfB, c.lfR, kept, bits);
  else t = condition(c.flags, cc);
  return t;
}

/**
 * Condition cc from ZF SF OF CF, where cc >> 1 !== 5 (P and NP read PF, which is not among
 * them); CF, and OF, come from bits (flagBits) instead when the record's kept (its lfOp) has
 * LF_KEEP_CF, LF_KEEP_OF. The record conditions below end here; one exit each, no comment
 * inside (they are inlined, helper-inline.ts).
 */
export function ccOf(cc: number, zf: boolean, sf: boolean, of: boolean, cf: boolean, kept: number, bits: number): boolean {
  const c = (kept & LF_KEEP_CF) !== 0 ? (bits & CF) !== 0 : cf;
  const o = (kept & LF_KEEP_OF) !== 0 ? (bits & OF) !== 0 : of;
  const kind = cc >> 1;
  const t = kind === 0 ? o : kind === 1 ? c : kind === 2 ? zf : kind === 3 ? c || zf : kind === 4 ? sf : kind === 6 ? sf !== o : zf || sf !== o;
  return ((cc & 1) === 0) === t;
}

/** cc (not P/NP) after a 32-bit SUB/SBB/CMP record a - b = r (kept, bits: see ccOf). */
export function subCondition32(cc: number, a: number, b: number, r: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, r === 0, r < 0, ((a ^ b) & (a ^ r)) < 0, ((~a & b) | ((~a | b) & r)) < 0, kept, bits);
  return t;
}

/** cc (not P/NP) after a 32-bit ADD/ADC record a + b = r. */
export function addCondition32(cc: number, a: number, b: number, r: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, r === 0, r < 0, ((a ^ r) & (b ^ r)) < 0, ((a & b) | ((a | b) & ~r)) < 0, kept, bits);
  return t;
}

/** cc (not P/NP) after a 32-bit logic record r (CF = OF = 0). */
export function logicCondition32(cc: number, r: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, r === 0, r < 0, false, false, kept, bits);
  return t;
}

/** cc (not P/NP) after a 64-bit SUB record: result (r, rh), high halves ah, bh of the operands. */
export function subCondition64(cc: number, r: number, ah: number, bh: number, rh: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, (r | rh) === 0, rh < 0, ((ah ^ bh) & (ah ^ rh)) < 0, ((~ah & bh) | ((~ah | bh) & rh)) < 0, kept, bits);
  return t;
}

/** cc (not P/NP) after a 64-bit ADD record: result (r, rh), high halves ah, bh of the operands. */
export function addCondition64(cc: number, r: number, ah: number, bh: number, rh: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, (r | rh) === 0, rh < 0, ((ah ^ rh) & (bh ^ rh)) < 0, ((ah & bh) | ((ah | bh) & ~rh)) < 0, kept, bits);
  return t;
}

/** cc (not P/NP) after a 64-bit logic record (r, rh). */
export function logicCondition64(cc: number, r: number, rh: number, kept: number, bits: number): boolean {
  const t = ccOf(cc, (r | rh) === 0, rh < 0, false, false, kept, bits);
  return t;
}

/** cc (not P/NP) after a byte or word ADD, SUB or logic record op (kind | size) of a, b, r. */
export function narrowCondition(cc: number, op: number, a: number, b: number, r: number, kept: number, bits: number): boolean {
  const top = (op & 15) * 8 - 1, add = (op & LF_ADD) !== 0, sub = (op & LF_SUB) !== 0;
  const of = add ? (((a ^ r) & (b ^ r)) >>> top & 1) !== 0 : sub ? (((a ^ b) & (a ^ r)) >>> top & 1) !== 0 : false;
  const cf = add ? ((((a & b) | ((a | b) & ~r)) >>> top) & 1) !== 0 : sub ? ((((~a & b) | ((~a | b) & r)) >>> top) & 1) !== 0 : false;
  const t = ccOf(cc, (r & ((2 << top) - 1)) === 0, ((r >>> top) & 1) !== 0, of, cf, kept, bits);
  return t;
}

/**
 * The record conditions by the record kind (lfOp without LF_KEEP_CF/LF_KEEP_OF) they decide, and
 * where each of their parameters after cc comes from: a field of the record or the flags, or
 * `kept` (the record's lfOp). A block that knows the kind puts the condition's body in place.
 */
export const RECORD_CONDITIONS: Readonly<Record<number, { readonly name: string; readonly args: readonly (keyof FlagState | 'kept')[] }>> = {
  [SUB4]: { name: 'subCondition32', args: ['lfA', 'lfB', 'lfR', 'kept', 'flagBits'] },
  [ADD4]: { name: 'addCondition32', args: ['lfA', 'lfB', 'lfR', 'kept', 'flagBits'] },
  [LOGIC4]: { name: 'logicCondition32', args: ['lfR', 'kept', 'flagBits'] },
  [SUB8]: { name: 'subCondition64', args: ['lfR', 'lfAh', 'lfBh', 'lfRh', 'kept', 'flagBits'] },
  [ADD8]: { name: 'addCondition64', args: ['lfR', 'lfAh', 'lfBh', 'lfRh', 'kept', 'flagBits'] },
  [LOGIC8]: { name: 'logicCondition64', args: ['lfR', 'lfRh', 'kept', 'flagBits'] },
  // Byte records (the compiled blocks' inlined byte CMP/TEST): the size and kind come from kept.
  [LF_SUB | 1]: { name: 'narrowCondition', args: ['kept', 'lfA', 'lfB', 'lfR', 'kept', 'flagBits'] },
  [LF_LOGIC | 1]: { name: 'narrowCondition', args: ['kept', 'lfA', 'lfB', 'lfR', 'kept', 'flagBits'] },
};
