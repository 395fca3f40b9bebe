/**
 * The instruction forms the memory assist supports, as data, for the differential test.
 * kind: EG = op E,G (memory destination); GE = op G,E (register destination); EI = op E,imm
 * (ModRM.reg = digit); MOFFS_LOAD/STORE = A0-A3; STR = string instruction.
 * flags: which RFLAGS bits are architecturally undefined after it (masked in the comparison):
 * AND/OR/XOR/TEST leave AF undefined; everything else here defines all it touches.
 */
import { AF } from '../../../src/x86/exec/context.js';

export type FormKind = 'EG' | 'GE' | 'EI' | 'MOFFS_LOAD' | 'MOFFS_STORE' | 'STR';

export interface Form {
  name: string;
  kind: FormKind;
  /** 0x0F-map opcode when true. */
  twoByte?: boolean;
  opcode: number;
  /** Byte operation (no operand-size choice). */
  byteOp: boolean;
  digit?: number;
  /** Immediate: b = imm8, z = imm16/32 by operand size, bs = imm8 sign-extended. */
  imm?: 'b' | 'z' | 'bs';
  /** Source operand size for MOVZX/MOVSX (1 or 2) or MOVSXD (4). */
  srcSize?: 1 | 2 | 4;
  /** Operand sizes allowed (default 2, 4, 8; byte forms 1). */
  sizes?: (2 | 4 | 8)[];
  undefinedFlags: number;
  /** A LOCK prefix is legal (memory-destination read-modify-write forms). */
  lockable?: boolean;
  /** String forms: which of rsi/rdi may point at the MMIO page. */
  str?: 'movs' | 'cmps' | 'stos' | 'lods';
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const LOGIC = new Set(['or', 'and', 'xor']);
const undef = (op: string): number => (LOGIC.has(op) ? AF : 0);

function aluForms(): Form[] {
  const out: Form[] = [];
  ALU.forEach((op, i) => {
    const u = undef(op), lockable = op !== 'cmp';
    out.push(
      { name: `${op} Eb,Gb`, kind: 'EG', opcode: i * 8, byteOp: true, undefinedFlags: u, lockable },
      { name: `${op} Ev,Gv`, kind: 'EG', opcode: i * 8 + 1, byteOp: false, undefinedFlags: u, lockable },
      { name: `${op} Gb,Eb`, kind: 'GE', opcode: i * 8 + 2, byteOp: true, undefinedFlags: u },
      { name: `${op} Gv,Ev`, kind: 'GE', opcode: i * 8 + 3, byteOp: false, undefinedFlags: u },
      { name: `${op} Eb,Ib (80)`, kind: 'EI', opcode: 0x80, digit: i, byteOp: true, imm: 'b', undefinedFlags: u, lockable },
      { name: `${op} Ev,Iz (81)`, kind: 'EI', opcode: 0x81, digit: i, byteOp: false, imm: 'z', undefinedFlags: u, lockable },
      { name: `${op} Ev,Ib (83)`, kind: 'EI', opcode: 0x83, digit: i, byteOp: false, imm: 'bs', undefinedFlags: u, lockable },
    );
  });
  return out;
}

export const FORMS: readonly Form[] = [
  ...aluForms(),
  { name: 'test Eb,Gb', kind: 'EG', opcode: 0x84, byteOp: true, undefinedFlags: AF },
  { name: 'test Ev,Gv', kind: 'EG', opcode: 0x85, byteOp: false, undefinedFlags: AF },
  { name: 'test Eb,Ib', kind: 'EI', opcode: 0xf6, digit: 0, byteOp: true, imm: 'b', undefinedFlags: AF },
  { name: 'test Ev,Iz', kind: 'EI', opcode: 0xf7, digit: 0, byteOp: false, imm: 'z', undefinedFlags: AF },
  { name: 'xchg Eb,Gb', kind: 'EG', opcode: 0x86, byteOp: true, undefinedFlags: 0, lockable: true },
  { name: 'xchg Ev,Gv', kind: 'EG', opcode: 0x87, byteOp: false, undefinedFlags: 0, lockable: true },
  { name: 'mov Eb,Gb', kind: 'EG', opcode: 0x88, byteOp: true, undefinedFlags: 0 },
  { name: 'mov Ev,Gv', kind: 'EG', opcode: 0x89, byteOp: false, undefinedFlags: 0 },
  { name: 'mov Gb,Eb', kind: 'GE', opcode: 0x8a, byteOp: true, undefinedFlags: 0 },
  { name: 'mov Gv,Ev', kind: 'GE', opcode: 0x8b, byteOp: false, undefinedFlags: 0 },
  { name: 'mov Eb,Ib', kind: 'EI', opcode: 0xc6, digit: 0, byteOp: true, imm: 'b', undefinedFlags: 0 },
  { name: 'mov Ev,Iz', kind: 'EI', opcode: 0xc7, digit: 0, byteOp: false, imm: 'z', undefinedFlags: 0 },
  { name: 'mov AL,Ob', kind: 'MOFFS_LOAD', opcode: 0xa0, byteOp: true, undefinedFlags: 0 },
  { name: 'mov rAX,Ov', kind: 'MOFFS_LOAD', opcode: 0xa1, byteOp: false, undefinedFlags: 0 },
  { name: 'mov Ob,AL', kind: 'MOFFS_STORE', opcode: 0xa2, byteOp: true, undefinedFlags: 0 },
  { name: 'mov Ov,rAX', kind: 'MOFFS_STORE', opcode: 0xa3, byteOp: false, undefinedFlags: 0 },
  { name: 'movzx Gv,Eb', kind: 'GE', twoByte: true, opcode: 0xb6, byteOp: false, srcSize: 1, undefinedFlags: 0 },
  { name: 'movzx Gv,Ew', kind: 'GE', twoByte: true, opcode: 0xb7, byteOp: false, srcSize: 2, sizes: [4, 8], undefinedFlags: 0 },
  { name: 'movsx Gv,Eb', kind: 'GE', twoByte: true, opcode: 0xbe, byteOp: false, srcSize: 1, undefinedFlags: 0 },
  { name: 'movsx Gv,Ew', kind: 'GE', twoByte: true, opcode: 0xbf, byteOp: false, srcSize: 2, sizes: [4, 8], undefinedFlags: 0 },
  { name: 'movsxd Gq,Ed', kind: 'GE', opcode: 0x63, byteOp: false, srcSize: 4, sizes: [8], undefinedFlags: 0 },
  { name: 'movs b', kind: 'STR', opcode: 0xa4, byteOp: true, str: 'movs', undefinedFlags: 0 },
  { name: 'movs v', kind: 'STR', opcode: 0xa5, byteOp: false, str: 'movs', undefinedFlags: 0 },
  { name: 'cmps b', kind: 'STR', opcode: 0xa6, byteOp: true, str: 'cmps', undefinedFlags: 0 },
  { name: 'cmps v', kind: 'STR', opcode: 0xa7, byteOp: false, str: 'cmps', undefinedFlags: 0 },
  { name: 'stos b', kind: 'STR', opcode: 0xaa, byteOp: true, str: 'stos', undefinedFlags: 0 },
  { name: 'stos v', kind: 'STR', opcode: 0xab, byteOp: false, str: 'stos', undefinedFlags: 0 },
  { name: 'lods b', kind: 'STR', opcode: 0xac, byteOp: true, str: 'lods', undefinedFlags: 0 },
  { name: 'lods v', kind: 'STR', opcode: 0xad, byteOp: false, str: 'lods', undefinedFlags: 0 },
];
