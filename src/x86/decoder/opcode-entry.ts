/**
 * Opcode-map entries and their notation. The maps (map-*.ts) are written as data in Intel's
 * Appendix A notation, e.g. 'add Ev,Gv @lk', and compiled here once, at module load, into
 * numeric operand specs so that the hot decode path never looks at a string.
 *
 * Entry text: MNEMONIC [OPERANDS] [@FLAG ...]
 *   MNEMONIC  one name, or 'n16/n32/n64' picked by operand size (by address size with @asz).
 *   OPERANDS  comma-separated: addressing method + size letter (Eb Gv Iz Jb Ob Sw Mp ...) or a
 *             fixed operand (AL CL DX rAX eAX 1 ES CS SS DS FS GS).
 *   FLAGS     see FLAG_BITS.
 *
 * Addressing methods (Intel): E modrm r/m (reg or mem), G modrm reg, M modrm memory only,
 * R modrm r/m register only, S segment register in modrm.reg, C/D control/debug register in
 * modrm.reg, I immediate, J relative offset, O moffs, A far pointer, X DS:rSI, Y ES:rDI,
 * Z register in the opcode's low 3 bits (+REX.B), W any modrm form of a non-GPR
 * (SSE/MMX/x87: only its memory operand is reported).
 * Size letters (Intel): b w d q v z y p s a, plus t (10 bytes), o (16 bytes), c (cmpxchg8b/16b:
 * 8, or 16 with REX.W), r (a word in memory, operand size in a register: MOV Ev,Sw; SLDT...),
 * and none (LEA's M: size 0).
 */
import type { CodeMode } from '../instruction.js';

/** Addressing methods, as small ints for the hot path's switch. */
export const enum Method {
  E = 1, G, M, R, S, C, D, I, J, O, A, X, Y, Z, W,
  /** A fixed general register (AL, CL, rAX, eAX): reg in OperandSpec.reg. */
  Reg,
  /** A fixed segment register (PUSH ES...): segment in OperandSpec.reg. */
  Seg,
  /** DX as the I/O port of IN/OUT/INS/OUTS. */
  PortDx,
  /** The constant 1 of the D0/D1 shifts. */
  One,
}

/** Size codes: positive = bytes; negative = depends on operand/address size. */
export const enum Size {
  None = 0,
  V = -1, Z = -2, Y = -3, P = -4, S = -5, A = -6, C = -7, R = -8,
}

export interface OperandSpec {
  readonly method: Method;
  readonly size: number;
  /** Fixed register/segment number for Method.Reg/Seg. */
  readonly reg: number;
}

export const FLAG_BITS = {
  /** Invalid in 64-bit mode (#UD). */
  i64: 1 << 0,
  /** Valid only in 64-bit mode. */
  o64: 1 << 1,
  /** 64-bit default operand size in 64-bit mode (66 selects 16). */
  d64: 1 << 2,
  /** 64-bit operand size forced in 64-bit mode (66 ignored; Intel's rule for near branches). */
  f64: 1 << 3,
  /** LOCK allowed (with a memory destination). */
  lk: 1 << 4,
  /** Imm8 is sign-extended to the operand size. */
  sx: 1 << 5,
  /** Control/debug register moves: operand size is the mode's (8 in 64-bit, else 4), ModRM.mod ignored. */
  ocr: 1 << 6,
  /** The 66 prefix is a mandatory prefix here, not an operand-size override. */
  n66: 1 << 7,
  /** Mnemonic variants are picked by address size (JCXZ/JECXZ/JRCXZ). */
  asz: 1 << 8,
  /** Operand size is the mode's natural size, ignoring 66 and REX.W (VMREAD/VMWRITE). */
  nat: 1 << 9,
} as const;
export type FlagName = keyof typeof FLAG_BITS;

/** A decodable instruction form. */
export interface LeafEntry {
  readonly kind: 'leaf';
  /** Mnemonics for operand (or address) size 2, 4, 8. */
  readonly names: readonly [string, string, string];
  readonly ops: readonly OperandSpec[];
  readonly flags: number;
  /** Whether any operand needs a ModRM byte. */
  readonly modrm: boolean;
  /** Index into ops of the operand whose size is Instruction.opSize, or -1 (then the operand size). */
  readonly sizingOp: number;
}

/** Dispatch on ModRM.reg (mem forms 0..7, register forms 8..15). */
export interface GroupEntry { readonly kind: 'group'; readonly sub: readonly Entry[]; }
/** Dispatch on ModRM.rm (register forms of group 7 and friends). */
export interface RmEntry { readonly kind: 'rm'; readonly sub: readonly Entry[]; }
/** Dispatch on the mandatory prefix: none, 66, F3, F2 (F2/F3 take precedence over 66). */
export interface PrefixEntry { readonly kind: 'prefix'; readonly sub: readonly Entry[]; }
/** Dispatch on the mode: legacy (16/32-bit) or 64-bit. */
export interface ModeEntry { readonly kind: 'mode'; readonly sub: readonly Entry[]; }

/** null = invalid encoding (#UD). */
export type Entry = LeafEntry | GroupEntry | RmEntry | PrefixEntry | ModeEntry | null;

/** What the map tables are written with before compilation. */
export type EntrySource = string | null | Entry;

const FIXED: Record<string, OperandSpec> = {
  AL: { method: Method.Reg, size: 1, reg: 0 },
  AX: { method: Method.Reg, size: 2, reg: 0 },
  CL: { method: Method.Reg, size: 1, reg: 1 },
  rAX: { method: Method.Reg, size: Size.V, reg: 0 },
  eAX: { method: Method.Reg, size: Size.Z, reg: 0 },
  DX: { method: Method.PortDx, size: 2, reg: 2 },
  '1': { method: Method.One, size: 1, reg: 0 },
  ES: { method: Method.Seg, size: 2, reg: 0 },
  CS: { method: Method.Seg, size: 2, reg: 1 },
  SS: { method: Method.Seg, size: 2, reg: 2 },
  DS: { method: Method.Seg, size: 2, reg: 3 },
  FS: { method: Method.Seg, size: 2, reg: 4 },
  GS: { method: Method.Seg, size: 2, reg: 5 },
};

const METHODS: Record<string, Method> = {
  E: Method.E, G: Method.G, M: Method.M, R: Method.R, S: Method.S, C: Method.C, D: Method.D,
  I: Method.I, J: Method.J, O: Method.O, A: Method.A, X: Method.X, Y: Method.Y, Z: Method.Z, W: Method.W,
};

const SIZES: Record<string, number> = {
  '': Size.None, b: 1, w: 2, d: 4, q: 8, t: 10, o: 16,
  v: Size.V, z: Size.Z, y: Size.Y, p: Size.P, s: Size.S, a: Size.A, c: Size.C, r: Size.R,
};

function parseOperand(text: string, where: string): OperandSpec {
  const fixed = FIXED[text];
  if (fixed) return fixed;
  const method = METHODS[text[0]];
  const size = SIZES[text.slice(1)];
  if (method === undefined || size === undefined) throw new Error(`opcode table: bad operand '${text}' in '${where}'`);
  return { method, size, reg: 0 };
}

const MODRM_METHODS = new Set([Method.E, Method.G, Method.M, Method.R, Method.S, Method.C, Method.D, Method.W]);
/** Operands that carry data of the instruction's size (not immediates, ports, segments, control registers). */
const SIZING_METHODS = new Set([Method.E, Method.G, Method.M, Method.R, Method.Z, Method.Reg, Method.O, Method.X, Method.Y]);

/** Compiles 'add Ev,Gv @lk' into a LeafEntry. Throws a plain Error: table bugs are programming errors at load. */
export function leaf(text: string): LeafEntry {
  const parts = text.trim().split(/\s+/);
  const nameText = parts[0];
  let opsText = '';
  let flags = 0;
  for (const p of parts.slice(1)) {
    if (p.startsWith('@')) {
      const bit = FLAG_BITS[p.slice(1) as FlagName];
      if (bit === undefined) throw new Error(`opcode table: bad flag '${p}' in '${text}'`);
      flags |= bit;
    } else opsText = p;
  }
  const n = nameText.split('/');
  if (n.length !== 1 && n.length !== 3) throw new Error(`opcode table: bad mnemonic '${nameText}'`);
  const names: [string, string, string] = n.length === 3 ? [n[0], n[1], n[2]] : [n[0], n[0], n[0]];
  const ops = opsText === '' ? [] : opsText.split(',').map((o) => parseOperand(o, text));
  const modrm = ops.some((o) => MODRM_METHODS.has(o.method));
  const sizingOp = ops.findIndex((o) => SIZING_METHODS.has(o.method) && o.size !== Size.None);
  return { kind: 'leaf', names, ops, flags, modrm, sizingOp };
}

function compile(src: EntrySource): Entry {
  return typeof src === 'string' ? leaf(src) : src;
}

/** Eight entries by ModRM.reg; `reg` gives different register-form (mod = 3) entries. */
export function group(mem: readonly EntrySource[], reg: readonly EntrySource[] = mem): GroupEntry {
  if (mem.length !== 8 || reg.length !== 8) throw new Error('opcode table: a group has 8 entries per form');
  return { kind: 'group', sub: [...mem.map(compile), ...reg.map(compile)] };
}

export function byRm(sub: readonly EntrySource[]): RmEntry {
  if (sub.length !== 8) throw new Error('opcode table: an rm table has 8 entries');
  return { kind: 'rm', sub: sub.map(compile) };
}

export function byPrefix(none: EntrySource, p66: EntrySource, pF3: EntrySource, pF2: EntrySource): PrefixEntry {
  return { kind: 'prefix', sub: [none, p66, pF3, pF2].map(compile) };
}

export function byMode(legacy: EntrySource, long: EntrySource): ModeEntry {
  return { kind: 'mode', sub: [legacy, long].map(compile) };
}

/** Compiles a 256-entry map. */
export function opcodeMap(src: readonly EntrySource[]): Entry[] {
  if (src.length !== 256) throw new Error(`opcode table: a map has 256 entries, got ${src.length}`);
  return src.map(compile);
}

/** Whether decoding e (or any entry it dispatches to) needs the ModRM byte. */
export function needsModrm(e: Entry): boolean {
  if (e === null) return false;
  if (e.kind === 'leaf') return e.modrm;
  if (e.kind === 'group' || e.kind === 'rm') return true;
  return e.sub.some(needsModrm);
}

/** The mode-indexed sub-entry position. */
export function modeIndex(mode: CodeMode): number {
  return mode === 64 ? 1 : 0;
}
