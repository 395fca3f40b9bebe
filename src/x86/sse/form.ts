/**
 * SSE/MMX instruction forms as data: each form is (opcode map, opcode, mandatory prefix, and
 * ModRM.reg for the shift groups) -> operands in Intel's Appendix A notation + a semantic op.
 * The generic runner (run-form.ts) does the checks, operand loads and stores; an op only
 * computes: `op(d, s, env)` turns the destination value d (loaded when it is a register) and
 * the source value s into the result, left in d.
 *
 * Operand notation: a method letter and a size letter.
 *   V xmm in ModRM.reg   U xmm in ModRM.rm (register form only)   W xmm or memory in ModRM.rm
 *   P mm in ModRM.reg    N mm in ModRM.rm (register form only)    Q mm or memory in ModRM.rm
 *   G GPR in ModRM.reg   E GPR or memory in ModRM.rm              M memory only in ModRM.rm
 *   sizes (of a memory operand; of a GPR for G/E): b w d q x(16) y (d, or q with REX.W)
 * A GPR source narrower than 4 bytes (PINSRB's r32/m8) is read as 32 bits.
 */
import { VmmError } from '../../api/errors.js';
import type { Instruction } from '../instruction.js';
import type { VectorContext } from './context.js';
import { Uses } from './context.js';
import type { Vec } from './vec.js';

/** Mandatory prefix index: none, 66, F3, F2 (F2/F3 take precedence over 66, the last F2/F3 wins). */
export const NP = 0, P66 = 1, PF3 = 2, PF2 = 3;

export const enum Method { V, U, W, P, N, Q, G, E, M, None }

export interface Loc {
  readonly method: Method;
  /** Bytes of a memory operand (or of a GPR for G/E); -1 = 4, or 8 with REX.W. */
  readonly size: number;
}

export interface OpEnv {
  ctx: VectorContext;
  /**
   * The instruction: set for forms defined with noWrite only (they compute their own results and
   * may need all of it); others read opcode. Storing the object on every run cost a write barrier.
   */
  insn: Instruction;
  /** The instruction's opcode byte. */
  opcode: number;
  /** The imm8, when the form has one (0 otherwise). */
  imm: number;
  /** Vector width of the operation: 16 (XMM) or 8 (MMX). */
  n: 8 | 16;
  /** The ModRM.rm operand is memory. */
  mem: boolean;
  /** REX.W. */
  wide: boolean;
  /** Scratch vector for ops that cannot work in place. */
  t: Vec;
}

export type Op = (d: Vec, s: Vec, e: OpEnv) => void;

export interface Form {
  readonly name: string;
  readonly dst: Loc;
  readonly src: Loc;
  /** Which operand is ModRM.rm: 0 = dst, 1 = src, -1 = none. */
  readonly rmOperand: 0 | 1 | -1;
  readonly uses: number;
  readonly n: 8 | 16;
  /** A 16-byte memory operand must be 16-byte aligned (#GP(0)): legacy SSE, except MOVUPS & co. */
  readonly aligned: boolean;
  /** false: the op writes its own results (flags, GPRs, memory) and the destination is left alone. */
  readonly writeDst: boolean;
  readonly op: Op;
}

/** A table slot: the register-form and memory-form instruction for one key (either may be absent: #UD). */
export interface Slot { reg: Form | undefined; mem: Form | undefined }

/** Opcodes whose forms are selected by ModRM.reg too (groups 12-14: shifts by immediate). */
const GROUP_OPCODES = new Set([0x171, 0x172, 0x173]);

export function formKey(map: number, opcode: number, prefix: number, modrmReg: number): number {
  const mo = (map << 8) | opcode;
  return (((mo << 2) | prefix) << 4) | (GROUP_OPCODES.has(mo) ? 8 | (modrmReg & 7) : 0);
}

/** The mandatory-prefix index of a decoded instruction. */
export function prefixIndex(insn: Instruction): number {
  return insn.rep === 0xf3 ? PF3 : insn.rep === 0xf2 ? PF2 : insn.opsizePrefix ? P66 : NP;
}

const METHODS: Record<string, Method> = {
  V: Method.V, U: Method.U, W: Method.W, P: Method.P, N: Method.N, Q: Method.Q,
  G: Method.G, E: Method.E, M: Method.M,
};
const SIZES: Record<string, number> = { b: 1, w: 2, d: 4, q: 8, x: 16, y: -1 };
const RM_METHODS = new Set([Method.U, Method.W, Method.N, Method.Q, Method.E, Method.M]);
const XMM_METHODS = new Set([Method.V, Method.U, Method.W]);
const MMX_METHODS = new Set([Method.P, Method.N, Method.Q]);

function parseLoc(text: string | undefined, where: string): Loc {
  if (text === undefined || text === '') return { method: Method.None, size: 0 };
  const method = METHODS[text[0]!], size = SIZES[text.slice(1)];
  if (method === undefined || size === undefined) throw new VmmError('EINVAL', `sse table: bad operand '${text}' in '${where}'`);
  return { method, size };
}

export interface FormOptions {
  /** The 16-byte memory operand may be unaligned (MOVUPS, MOVDQU, LDDQU, PCMPxSTRx). */
  unaligned?: boolean;
  /** The op writes its own results; the destination operand is an input only. */
  noWrite?: boolean;
  /** ModRM.reg of a group form. */
  group?: number;
  /** The form's vector width when its operands do not tell (defaults: XMM -> 16, MMX -> 8). */
  n?: 8 | 16;
}

export const SLOTS = new Map<number, Slot>();

/**
 * Registers 'name Dst,Src' at (map, opcode, prefix). The ModRM.rm operand's method says which
 * forms it fills: W/Q/E both, U/N register only, M memory only.
 */
export function def(map: number, opcode: number, prefix: number, text: string, op: Op, opts: FormOptions = {}): void {
  const [name, operands = ''] = text.split(' ');
  const [d, s] = operands.split(',');
  const dst = parseLoc(d, text), src = parseLoc(s, text);
  const rmOperand = RM_METHODS.has(dst.method) ? 0 : RM_METHODS.has(src.method) ? 1 : -1;
  const methods = [dst.method, src.method];
  const xmm = methods.some((m) => XMM_METHODS.has(m)), mmx = methods.some((m) => MMX_METHODS.has(m));
  const form: Form = {
    name: name!, dst, src, rmOperand,
    uses: (xmm ? Uses.Xmm : 0) | (mmx ? Uses.Mmx : 0),
    n: opts.n ?? (xmm ? 16 : 8),
    aligned: xmm && !opts.unaligned,
    writeDst: !opts.noWrite,
    op,
  };
  const key = formKey(map, opcode, prefix, opts.group ?? 0);
  const slot = SLOTS.get(key) ?? { reg: undefined, mem: undefined };
  const rm = rmOperand < 0 ? Method.None : methods[rmOperand]!;
  const regForm = rm !== Method.M, memForm = rm !== Method.U && rm !== Method.N;
  if ((regForm && slot.reg) || (memForm && slot.mem)) {
    throw new VmmError('EEXIST', `sse table: ${text} at ${map}:${opcode.toString(16)} prefix ${prefix} registered twice`);
  }
  if (regForm) slot.reg = form;
  if (memForm) slot.mem = form;
  SLOTS.set(key, slot);
}

/** The same op as an MMX form (no prefix, Pq,Qq) and an XMM form (66, Vx,Wx). */
export function defPair(map: number, opcode: number, name: string, op: Op, mmxSrc = 'Qq'): void {
  def(map, opcode, NP, `${name} Pq,${mmxSrc}`, op);
  def(map, opcode, P66, `${name} Vx,Wx`, op);
}
