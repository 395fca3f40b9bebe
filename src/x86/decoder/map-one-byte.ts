/**
 * The one-byte opcode map (Intel SDM vol. 2, Appendix A, table A-2) as data.
 * Prefix bytes (26 2E 36 3E 64 65 66 67 F0 F2 F3, REX 40-4F in 64-bit mode) and the escapes
 * 0F, C4/C5 (VEX), 62 (EVEX), 8F (XOP) are consumed by the decoder before this table is used;
 * their slots hold what they mean when they are not prefixes (INC/DEC, LES/LDS, BOUND, POP Ev).
 */
import type { EntrySource } from './opcode-entry.js';
import { byMode, group, opcodeMap } from './opcode-entry.js';
import { X87_MAP } from './map-x87.js';

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
export const CONDITION_CODES: readonly string[] = CC;

/** The six ALU rows 00-3F: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz, then two column-specific bytes. */
function aluRow(op: string, six: EntrySource, seven: EntrySource): EntrySource[] {
  const lk = op === 'cmp' ? '' : ' @lk';
  return [`${op} Eb,Gb${lk}`, `${op} Ev,Gv${lk}`, `${op} Gb,Eb`, `${op} Gv,Ev`, `${op} AL,Ib`, `${op} rAX,Iz`, six, seven];
}

/** Group 1 (80-83): the eight ALU operations on r/m with an immediate. */
function group1(ops: string, extra = ''): EntrySource {
  return group(ALU.map((op) => `${op} ${ops}${op === 'cmp' ? '' : ' @lk'}${extra}`));
}

/** Group 2 (C0 C1 D0-D3): rotates and shifts. */
function group2(ops: string): EntrySource {
  return group(SHIFTS.map((op) => `${op} ${ops}`));
}

/** Eight rows of the same form over the registers in the opcode's low bits. */
function eight(text: string): string[] {
  return Array<string>(8).fill(text);
}

const SOURCE: EntrySource[] = [
  // 00-3F: ALU rows with segment push/pop, prefixes (handled earlier) and BCD adjusts.
  ...aluRow('add', 'push ES @i64', 'pop ES @i64'),
  ...aluRow('or', 'push CS @i64', null /* 0F escape */),
  ...aluRow('adc', 'push SS @i64', 'pop SS @i64'),
  ...aluRow('sbb', 'push DS @i64', 'pop DS @i64'),
  ...aluRow('and', null /* ES: */, 'daa @i64'),
  ...aluRow('sub', null /* CS: */, 'das @i64'),
  ...aluRow('xor', null /* SS: */, 'aaa @i64'),
  ...aluRow('cmp', null /* DS: */, 'aas @i64'),
  // 40-4F: INC/DEC (REX in 64-bit mode, consumed as a prefix there).
  ...eight('inc Zv @i64'),
  ...eight('dec Zv @i64'),
  // 50-5F
  ...eight('push Zv @d64'),
  ...eight('pop Zv @d64'),
  // 60-6F
  'pusha/pushad/pushad @i64', 'popa/popad/popad @i64',
  'bound Gv,Ma @i64' /* EVEX in 64-bit mode and for mod=3 */,
  byMode('arpl Ew,Gw', 'movsxd Gv,Ez'),
  null, null, null, null, // FS: GS: 66 67
  'push Iz @d64', 'imul Gv,Ev,Iz', 'push Ib @d64 @sx', 'imul Gv,Ev,Ib @sx',
  'ins Yb,DX', 'ins Yz,DX', 'outs DX,Xb', 'outs DX,Xz',
  // 70-7F
  ...CC.map((cc) => `j${cc} Jb @f64`),
  // 80-8F
  group1('Eb,Ib'), group1('Ev,Iz'), group1('Eb,Ib', ' @i64'), group1('Ev,Ib', ' @sx'),
  'test Eb,Gb', 'test Ev,Gv', 'xchg Eb,Gb @lk', 'xchg Ev,Gv @lk',
  'mov Eb,Gb', 'mov Ev,Gv', 'mov Gb,Eb', 'mov Gv,Ev',
  'mov Er,Sw', 'lea Gv,M', 'mov Sw,Er',
  group(['pop Ev @d64', null, null, null, null, null, null, null]) /* reg != 0: XOP, handled earlier */,
  // 90-9F (90 without REX.B is NOP/PAUSE: the decoder renames it)
  ...eight('xchg Zv,rAX'),
  'cbw/cwde/cdqe', 'cwd/cdq/cqo', 'callf Ap @i64', 'fwait',
  'pushf/pushfd/pushfq @d64', 'popf/popfd/popfq @d64', 'sahf', 'lahf',
  // A0-AF
  'mov AL,Ob', 'mov rAX,Ov', 'mov Ob,AL', 'mov Ov,rAX',
  'movs Yb,Xb', 'movs Yv,Xv', 'cmps Xb,Yb', 'cmps Xv,Yv',
  'test AL,Ib', 'test rAX,Iz', 'stos Yb,AL', 'stos Yv,rAX',
  'lods AL,Xb', 'lods rAX,Xv', 'scas AL,Yb', 'scas rAX,Yv',
  // B0-BF
  ...eight('mov Zb,Ib'),
  ...eight('mov Zv,Iv'),
  // C0-CF
  group2('Eb,Ib'), group2('Ev,Ib'), 'ret Iw @f64', 'ret @f64',
  'les Gz,Mp @i64' /* VEX in 64-bit mode and for mod=3 */, 'lds Gz,Mp @i64',
  group(['mov Eb,Ib', null, null, null, null, null, null, null],
    ['mov Eb,Ib', null, null, null, null, null, null, 'xabort Ib']),
  group(['mov Ev,Iz', null, null, null, null, null, null, null],
    ['mov Ev,Iz', null, null, null, null, null, null, 'xbegin Jz']),
  'enter Iw,Ib @d64', 'leave @d64', 'retf Iw', 'retf',
  'int3', 'int Ib', 'into @i64', 'iret/iretd/iretq',
  // D0-DF
  group2('Eb,1'), group2('Ev,1'), group2('Eb,CL'), group2('Ev,CL'),
  'aam Ib @i64', 'aad Ib @i64', null /* SALC: undefined */, 'xlat',
  ...X87_MAP,
  // E0-EF
  'loopne Jb @f64', 'loope Jb @f64', 'loop Jb @f64', 'jcxz/jecxz/jrcxz Jb @f64 @asz',
  'in AL,Ib', 'in eAX,Ib', 'out Ib,AL', 'out Ib,eAX',
  'call Jz @f64', 'jmp Jz @f64', 'jmpf Ap @i64', 'jmp Jb @f64',
  'in AL,DX', 'in eAX,DX', 'out DX,AL', 'out DX,eAX',
  // F0-FF
  null /* LOCK */, 'int1', null, null /* REPNE REP */, 'hlt', 'cmc',
  group(['test Eb,Ib', 'test Eb,Ib', 'not Eb @lk', 'neg Eb @lk', 'mul Eb', 'imul Eb', 'div Eb', 'idiv Eb']),
  group(['test Ev,Iz', 'test Ev,Iz', 'not Ev @lk', 'neg Ev @lk', 'mul Ev', 'imul Ev', 'div Ev', 'idiv Ev']),
  'clc', 'stc', 'cli', 'sti', 'cld', 'std',
  group(['inc Eb @lk', 'dec Eb @lk', null, null, null, null, null, null]),
  group(['inc Ev @lk', 'dec Ev @lk', 'call Ev @f64', 'callf Mp', 'jmp Ev @f64', 'jmpf Mp', 'push Ev @d64', null]),
];

export const ONE_BYTE_MAP = opcodeMap(SOURCE);
