/**
 * The operand pass of the decoder: turns a leaf's operand specs into Operand objects, reading
 * immediates, relative offsets, moffs and far pointers from the cursor in encoding order.
 * Results that are not operands (immediates, the moffs memory operand) are left in `decoded`.
 */
import type { CodeMode, MemoryOperand, Operand } from '../instruction.js';
import { REG_NONE, SEG_CS, SEG_DS } from '../instruction.js';
import type { ByteCursor } from './cursor.js';
import { FLAG_BITS, Method, Size } from './opcode-entry.js';
import type { LeafEntry } from './opcode-entry.js';
import {
  CONSTANT_ONE, FAR_OPERAND, PORT_DX, crOperand, drOperand, immOperand, memOperand, regOperand,
  relOperand, segOperand, stringDestination, stringSource,
} from './operand-objects.js';

const SX = FLAG_BITS.sx;
const TWO32 = 4294967296;

/** What the operand pass found besides the operands (one reused object: the decoder is not re-entrant). */
export const decoded = { imm: 0, immHi: 0, imm2: 0, immCount: 0, moffs: null as MemoryOperand | null };

/** Everything about the instruction so far that operand decoding depends on. */
export interface OperandContext {
  mode: CodeMode;
  /** Effective operand size (v). */
  os: 2 | 4 | 8;
  addrSize: 2 | 4 | 8;
  rex: number;
  /** The opcode byte (for Z operands: register in its low 3 bits). */
  opcode: number;
  modrm: number;
  /** ModRM names a register (mod = 3, or forced for CR/DR moves). */
  regForm: boolean;
  regField: number;
  rmField: number;
  mem: MemoryOperand | null;
  /** Segment override that applies to memory operands, or -1. */
  memSeg: number;
  lock: boolean;
}

export const operandContext: OperandContext = {
  mode: 64, os: 4, addrSize: 8, rex: 0, opcode: 0, modrm: -1, regForm: false, regField: 0, rmField: 0,
  mem: null, memSeg: -1, lock: false,
};

function setImmediate(lo: number, hi: number): void {
  const d = decoded;
  if (d.immCount++ === 0) {
    d.imm = lo;
    d.immHi = hi;
  } else d.imm2 = lo;
}

/** Resolves a size code against the operand size, mode and ModRM form. */
export function resolveSize(code: number, os: number, mode: CodeMode, regForm: boolean): number {
  if (code >= 0) return code;
  switch (code) {
    case Size.V: return os;
    case Size.Z: return os === 2 ? 2 : 4;
    case Size.Y: return os === 8 ? 8 : 4;
    case Size.P: return os + 2;
    case Size.S: return mode === 64 ? 10 : 6;
    case Size.A: return os * 2;
    case Size.C: return os === 8 ? 16 : 8;
    default: return regForm ? os : 2; // Size.R
  }
}

/** Decodes leaf's operands; immediates and moffs go to `decoded`. Throws ENODEV for invalid forms. */
export function decodeOperands(c: ByteCursor, leaf: LeafEntry, x: OperandContext): Operand[] {
  const d = decoded;
  d.immCount = 0; d.imm = 0; d.immHi = 0; d.imm2 = 0; d.moffs = null;
  const { mode, os, rex, mem, regForm, rmField, regField } = x;
  const f = leaf.flags;
  const specs = leaf.ops;
  const operands: Operand[] = [];
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i];
    switch (s.method) {
      case Method.E:
        operands.push(mem === null ? regOperand(rmField, resolveSize(s.size, os, mode, true), rex) : memOperand(resolveSize(s.size, os, mode, false)));
        break;
      case Method.G:
        operands.push(regOperand(regField, resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.M:
        if (mem === null) c.invalid(`${leaf.names[1]} needs a memory operand`);
        operands.push(memOperand(resolveSize(s.size, os, mode, false)));
        break;
      case Method.R:
        if (!regForm) c.invalid(`${leaf.names[1]} needs a register operand`);
        operands.push(regOperand(rmField, resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.W:
        if (mem !== null) operands.push(memOperand(0));
        break;
      case Method.Z:
        operands.push(regOperand((x.opcode & 7) | ((rex & 1) << 3), resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.Reg:
        operands.push(regOperand(s.reg, resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.S: {
        const sreg = (x.modrm >> 3) & 7;
        if (sreg > 5 || (i === 0 && sreg === SEG_CS)) c.invalid(`segment register ${sreg}`);
        operands.push(segOperand(sreg));
        break;
      }
      case Method.Seg:
        operands.push(segOperand(s.reg));
        break;
      case Method.C: {
        const n = regField | (x.lock ? 8 : 0);
        if (n !== 0 && n !== 2 && n !== 3 && n !== 4 && n !== 8) c.invalid(`control register cr${n}`);
        operands.push(crOperand(n));
        break;
      }
      case Method.D:
        if (regField > 7) c.invalid(`debug register dr${regField}`);
        operands.push(drOperand(regField));
        break;
      case Method.I: {
        const size = resolveSize(s.size, os, mode, false);
        if (size === 1) {
          if (f & SX) { const v = c.i8(); setImmediate(v, v >> 31); } else setImmediate(c.u8(), 0);
        } else if (size === 2) setImmediate(c.u16(), 0);
        else if (size === 4) {
          const v = c.i32();
          setImmediate(v, os === 8 ? v >> 31 : 0); // Iz at operand size 64 is sign-extended
        } else {
          const lo = c.i32();
          setImmediate(lo, c.i32());
        }
        operands.push(immOperand(size));
        break;
      }
      case Method.J: {
        const size = s.size === 1 ? 1 : os === 2 ? 2 : 4;
        const v = size === 1 ? c.i8() : size === 2 ? c.i16() : c.i32();
        setImmediate(v, v >> 31);
        operands.push(relOperand(size));
        break;
      }
      case Method.O: {
        let disp: number;
        if (x.addrSize === 2) disp = c.u16();
        else if (x.addrSize === 4) disp = c.i32();
        else {
          const lo = c.i32();
          disp = c.i32() * TWO32 + (lo >>> 0);
        }
        d.moffs = { seg: x.memSeg >= 0 ? x.memSeg : SEG_DS, base: REG_NONE, index: REG_NONE, scale: 1, disp };
        operands.push(memOperand(resolveSize(s.size, os, mode, false)));
        break;
      }
      case Method.A: {
        const off = os === 2 ? c.u16() : c.i32();
        setImmediate(off, 0);
        d.imm2 = c.u16();
        operands.push(FAR_OPERAND);
        break;
      }
      case Method.X:
        operands.push(stringSource(resolveSize(s.size, os, mode, false)));
        break;
      case Method.Y:
        operands.push(stringDestination(resolveSize(s.size, os, mode, false)));
        break;
      case Method.PortDx:
        operands.push(PORT_DX);
        break;
      default: // Method.One
        operands.push(CONSTANT_ONE);
    }
  }

  return operands;
}
