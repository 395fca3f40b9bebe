/**
 * Operand objects without per-instruction state are created once here and shared by every
 * decoded instruction (frozen: treat Instruction.operands entries as read-only). This keeps
 * the decode hot path down to one array and at most one memory-operand allocation.
 */
import type { Operand } from '../instruction.js';

const SIZES = [1, 2, 4, 8] as const;

function freeze<T extends Operand>(o: T): T {
  return Object.freeze(o);
}

/** reg operands indexed [size][reg * 2 + high]. */
const REGS: Operand[][] = [];
for (const size of SIZES) {
  const row: Operand[] = [];
  for (let reg = 0; reg < 16; reg++) {
    row.push(freeze({ kind: 'reg', reg, size, high: false }));
    row.push(freeze({ kind: 'reg', reg, size, high: true }));
  }
  REGS[size] = row;
}

/**
 * A general-register operand. Byte registers 4..7 without any REX prefix are AH CH DH BH
 * (reported as reg 0..3 with high set).
 */
export function regOperand(reg: number, size: number, rex: number): Operand {
  if (size === 1 && rex === 0 && reg >= 4 && reg < 8) return REGS[1][(reg - 4) * 2 + 1];
  return REGS[size][reg * 2];
}

function bySize(make: (size: number) => Operand, max = 16): Operand[] {
  const out: Operand[] = [];
  for (let s = 0; s <= max; s++) out.push(freeze(make(s)));
  return out;
}

const MEMS = bySize((size) => ({ kind: 'mem', size }));
const IMMS = bySize((size) => ({ kind: 'imm', size }));
const RELS = bySize((size) => ({ kind: 'rel', size }));

export function memOperand(size: number): Operand {
  return MEMS[size];
}
export function immOperand(size: number): Operand {
  return IMMS[size];
}
export function relOperand(size: number): Operand {
  return RELS[size];
}

const SEGS = [0, 1, 2, 3, 4, 5].map((seg) => freeze<Operand>({ kind: 'seg', seg }));
const CRS = Array.from({ length: 16 }, (_, n) => freeze<Operand>({ kind: 'cr', n }));
const DRS = Array.from({ length: 16 }, (_, n) => freeze<Operand>({ kind: 'dr', n }));
export const segOperand = (seg: number): Operand => SEGS[seg];
export const crOperand = (n: number): Operand => CRS[n];
export const drOperand = (n: number): Operand => DRS[n];
export const FAR_OPERAND: Operand = freeze({ kind: 'far' });

/** Implicit operands: the string operands DS:rSI (segment overridable) and ES:rDI, the DX port, the constant 1. */
const SRC = bySize((size) => ({ kind: 'implicit', name: 'ds:rsi', size }), 8);
const DST = bySize((size) => ({ kind: 'implicit', name: 'es:rdi', size }), 8);
export const stringSource = (size: number): Operand => SRC[size];
export const stringDestination = (size: number): Operand => DST[size];
export const PORT_DX: Operand = freeze({ kind: 'implicit', name: 'dx', size: 2 });
export const CONSTANT_ONE: Operand = freeze({ kind: 'implicit', name: '1', size: 1 });
