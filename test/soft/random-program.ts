/**
 * Random but decodable guest programs for the tier differential fuzz (block-diff-fuzz.test.ts):
 * integer ALU, MOV (MOVZX/MOVSX/MOVSXD, immediates), shifts and rotates, MUL/DIV, BCD, bit ops, CMPXCHG/XADD, string ops with and
 * without REP, PUSH/POP, PUSHF/POPF/LAHF/SAHF, NOP/PAUSE and hint-space NOPs, RDTSC/RDTSCP, SETcc/CMOVcc, forward Jcc/JMP/JrCXZ, counted
 * loops (LOOP, LOOPE/LOOPNE, DEC+JNZ), CALL, software traps, port I/O, in 16-, 32- and 64-bit
 * code. Memory operands land in the data pages (some straddle a
 * page boundary), in the code page itself (self-modifying code), in read-only RAM, in an MMIO
 * hole, or anywhere a clobbered pointer register leads (faults). Every instruction is checked by
 * the decoder (its length must be the one generated), so each program is valid code as written.
 */
import { decode } from '../../src/x86/decoder/index.js';
import { VmmError } from '../../src/api/errors.js';
import type { Rng } from '../exec/rng.js';

const hex = (bytes: readonly number[]): string => bytes.map((x) => x.toString(16).padStart(2, '0')).join(' ');

export type Mode = 16 | 32 | 64;

/** Guest-linear layout shared by every mode (real mode: CS = DS = SS = 0x1000, base 0x10000). */
export const LAYOUT = {
  segBase16: 0x10000,
  code: 0x10000,
  /** Three data pages; pointer BX/EBX sits just below the boundary at dataCross. */
  data: 0x11000, dataSize: 0x3000, dataCross: 0x12000,
  handlers: 0x14000,
  idt: 0x15000,
  gdt: 0x16000,
  stack: 0x18000,
  rom: 0x1a000,
  mmio: 0x1c000,
  ram: 0x100000,
} as const;

/** One instruction; a branch names the item it goes to (patched into its rel field once laid out). */
export interface Item {
  bytes: number[];
  /** rel8/16/32 field at byte `at` of bytes, relative to the end of the instruction. */
  branch?: { at: number; size: 1 | 2 | 4; target: number };
  /** A RIP-relative disp32 at byte `at`, to reach linear address `to`. */
  ripRel?: { at: number; to: number };
  /** The decoder refuses it (e.g. LOCK on a register form): the CPU raises #UD there. */
  undecodable?: boolean;
}

export interface Program { bytes: Uint8Array; starts: number[] }

type ImmKind = 0 | 1 | 2 | 'z' | 'v';

/** An opcode form: 'r' ModRM with a register operand, digits: ModRM /digit, none: no ModRM. */
interface Form {
  op: number[];
  modrm: 'r' | readonly number[] | 'none';
  imm?: ImmKind;
  memOnly?: boolean;
  /** Legacy modes only (invalid or redefined in 64-bit). */
  legacy?: boolean;
  /** 64-bit code only (redefined elsewhere). */
  long?: boolean;
  /** Takes a REP prefix now and then (string ops). */
  str?: boolean;
  /** An MMX/SSE form: the 66 prefix (its XMM form) four times in five. */
  vec?: boolean;
  /** Relative weight (default 1). */
  w?: number;
}

const ALL8 = [0, 1, 2, 3, 4, 5, 6, 7] as const;

const FORMS: Form[] = [
  // XMM/MMX forms compiled blocks take in (block-vector.ts): PADDD PAND PANDN POR PXOR PUNPCKLDQ
  // PUNPCKLQDQ MOVDQA (both ways), PSHUFD, PSRLD/PSRAD/PSLLD by an immediate.
  ...[0xfe, 0xdb, 0xdf, 0xeb, 0xef, 0x62, 0x6c, 0x6f, 0x7f].map((b): Form => ({ op: [0x0f, b], modrm: 'r', vec: true, w: 0.3 })),
  { op: [0x0f, 0x70], modrm: 'r', imm: 1, vec: true, w: 0.3 }, { op: [0x0f, 0x72], modrm: [2, 4, 6], imm: 1, vec: true, w: 0.3 },
  // ALU r/m,r / r,r/m / acc,imm for ADD OR ADC SBB AND SUB XOR CMP
  ...[0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38].flatMap((b): Form[] => [
    { op: [b], modrm: 'r' }, { op: [b + 1], modrm: 'r', w: 2 }, { op: [b + 2], modrm: 'r' }, { op: [b + 3], modrm: 'r', w: 2 },
    { op: [b + 4], modrm: 'none', imm: 1, w: 0.3 }, { op: [b + 5], modrm: 'none', imm: 'z', w: 0.3 },
  ]),
  { op: [0x80], modrm: ALL8, imm: 1 }, { op: [0x81], modrm: ALL8, imm: 'z' }, { op: [0x83], modrm: ALL8, imm: 1, w: 2 },
  { op: [0x84], modrm: 'r' }, { op: [0x85], modrm: 'r' }, { op: [0x86], modrm: 'r' }, { op: [0x87], modrm: 'r' },
  { op: [0x88], modrm: 'r', w: 2 }, { op: [0x89], modrm: 'r', w: 3 }, { op: [0x8a], modrm: 'r' }, { op: [0x8b], modrm: 'r', w: 2 },
  { op: [0x8d], modrm: 'r', memOnly: true },
  { op: [0xc6], modrm: [0], imm: 1 }, { op: [0xc7], modrm: [0], imm: 'z', w: 2 }, { op: [0x63], modrm: 'r', long: true },
  { op: [0x69], modrm: 'r', imm: 'z' }, { op: [0x6b], modrm: 'r', imm: 1 }, { op: [0x0f, 0xaf], modrm: 'r' },
  // shifts and rotates by 1, CL and imm8
  { op: [0xc0], modrm: ALL8, imm: 1 }, { op: [0xc1], modrm: ALL8, imm: 1, w: 2 }, { op: [0xd0], modrm: ALL8 },
  { op: [0xd1], modrm: ALL8 }, { op: [0xd2], modrm: ALL8 }, { op: [0xd3], modrm: ALL8, w: 2 },
  { op: [0x0f, 0xa4], modrm: 'r', imm: 1 }, { op: [0x0f, 0xa5], modrm: 'r' }, { op: [0x0f, 0xac], modrm: 'r', imm: 1 }, { op: [0x0f, 0xad], modrm: 'r' },
  // TEST/NOT/NEG/MUL/IMUL/DIV/IDIV, INC/DEC, PUSH r/m
  { op: [0xf6], modrm: [0], imm: 1 }, { op: [0xf6], modrm: [2, 3, 4, 5, 6, 7], w: 2 },
  { op: [0xf7], modrm: [0], imm: 'z' }, { op: [0xf7], modrm: [2, 3, 4, 5, 6, 7], w: 3 },
  { op: [0xfe], modrm: [0, 1] }, { op: [0xff], modrm: [0, 1] }, { op: [0xff], modrm: [6], w: 0.5 },
  // MOVZX/MOVSX, CMOVcc, SETcc, BT*, BSF/BSR, CMPXCHG, XADD, BSWAP
  { op: [0x0f, 0xb6], modrm: 'r' }, { op: [0x0f, 0xb7], modrm: 'r' }, { op: [0x0f, 0xbe], modrm: 'r' }, { op: [0x0f, 0xbf], modrm: 'r' },
  ...Array.from({ length: 16 }, (_, c): Form => ({ op: [0x0f, 0x40 + c], modrm: 'r', w: 0.2 })),
  ...Array.from({ length: 16 }, (_, c): Form => ({ op: [0x0f, 0x90 + c], modrm: [0], w: 0.2 })),
  { op: [0x0f, 0xa3], modrm: 'r' }, { op: [0x0f, 0xab], modrm: 'r' }, { op: [0x0f, 0xb3], modrm: 'r' }, { op: [0x0f, 0xbb], modrm: 'r' },
  { op: [0x0f, 0xba], modrm: [4, 5, 6, 7], imm: 1 },
  { op: [0x0f, 0xbc], modrm: 'r' }, { op: [0x0f, 0xbd], modrm: 'r' },
  { op: [0x0f, 0xb0], modrm: 'r' }, { op: [0x0f, 0xb1], modrm: 'r' }, { op: [0x0f, 0xc0], modrm: 'r' }, { op: [0x0f, 0xc1], modrm: 'r' },
  ...[0, 1, 2, 3, 5, 6, 7].map((r): Form => ({ op: [0x0f, 0xc8 + r], modrm: 'none', w: 0.1 })),
  // one-byte forms: INC/DEC r (legacy), PUSH/POP r, XCHG eAX, CBW/CWD, PUSHF/POPF, SAHF/LAHF
  ...Array.from({ length: 16 }, (_, r): Form => ({ op: [0x40 + r], modrm: 'none', legacy: true, w: 0.1 })),
  ...[0, 1, 2, 3, 5, 6, 7].map((r): Form => ({ op: [0x50 + r], modrm: 'none', w: 0.3 })),
  ...[0, 1, 2, 3, 5, 6, 7].map((r): Form => ({ op: [0x58 + r], modrm: 'none', w: 0.2 })),
  ...[1, 2, 3, 5, 6, 7].map((r): Form => ({ op: [0x90 + r], modrm: 'none', w: 0.1 })),
  // NOP (with REX.B: XCHG r8, rAX; with F3: PAUSE), multi-byte NOP and prefetch hints, register or memory
  { op: [0x90], modrm: 'none', str: true, w: 0.3 },
  { op: [0x0f, 0x1f], modrm: ALL8, w: 0.3 }, { op: [0x0f, 0x18], modrm: [0, 1, 2, 3], memOnly: true, w: 0.1 },
  { op: [0x0f, 0x0d], modrm: [1], memOnly: true, w: 0.1 },
  // RDTSC, RDTSCP: the TSC counts instructions retired, so every tier must read the same value.
  { op: [0x0f, 0x31], modrm: 'none', w: 0.3 }, { op: [0x0f, 0x01, 0xf9], modrm: 'none', w: 0.1 },
  { op: [0x98], modrm: 'none' }, { op: [0x99], modrm: 'none' }, { op: [0x9c], modrm: 'none' },
  { op: [0x9d], modrm: 'none', w: 0.3 }, { op: [0x9e], modrm: 'none' }, { op: [0x9f], modrm: 'none' },
  { op: [0xa8], modrm: 'none', imm: 1 }, { op: [0xa9], modrm: 'none', imm: 'z' },
  ...[0, 1, 2, 3].map((r): Form => ({ op: [0xb0 + r], modrm: 'none', imm: 1, w: 0.3 })),
  ...[0, 1, 2].map((r): Form => ({ op: [0xb8 + r], modrm: 'none', imm: 'v', w: 0.5 })),
  // string ops (REP sometimes; the count register is made small first)
  ...[0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf].map((op): Form => ({ op: [op], modrm: 'none', str: true, w: 1.5 })),
  // flags, pushes of immediates, BCD (legacy), XLAT, software traps, port I/O
  { op: [0xf5], modrm: 'none' }, { op: [0xf8], modrm: 'none' }, { op: [0xf9], modrm: 'none' },
  { op: [0xfc], modrm: 'none', w: 2 }, { op: [0xfd], modrm: 'none', w: 0.5 },
  { op: [0x6a], modrm: 'none', imm: 1, w: 0.3 }, { op: [0x68], modrm: 'none', imm: 'z', w: 0.3 },
  { op: [0x27], modrm: 'none', legacy: true }, { op: [0x2f], modrm: 'none', legacy: true },
  { op: [0x37], modrm: 'none', legacy: true }, { op: [0x3f], modrm: 'none', legacy: true },
  { op: [0xd4], modrm: 'none', imm: 1, legacy: true }, { op: [0xd5], modrm: 'none', imm: 1, legacy: true },
  { op: [0xd7], modrm: 'none', w: 0.3 },
  { op: [0xcc], modrm: 'none', w: 0.1 }, { op: [0xce], modrm: 'none', legacy: true, w: 0.1 }, { op: [0x0f, 0x0b], modrm: 'none', w: 0.1 },
  { op: [0xe6], modrm: 'none', imm: 1, w: 0.1 }, { op: [0xe5], modrm: 'none', imm: 1, w: 0.1 },
];

/** One-byte forms that write eCX (kept out of loop bodies, where eCX counts). */
const WRITES_ECX = [0x41, 0x49, 0x59, 0x91, 0xb9];

const TOTAL_WEIGHT = FORMS.reduce((s, f) => s + (f.w ?? 1), 0);

function pickForm(rng: Rng, mode: Mode): Form {
  for (;;) {
    let x = rng.next() * TOTAL_WEIGHT;
    for (const f of FORMS) {
      x -= f.w ?? 1;
      if (x < 0) {
        if ((f.legacy && mode === 64) || (f.long && mode !== 64)) break;
        return f;
      }
    }
  }
}

/** Addresses a memory operand aims at (linear): data (often across a page), code (SMC), ROM, MMIO. */
function memTarget(rng: Rng, codeLen: number): number {
  switch (rng.int(10)) {
    case 0: case 1: return LAYOUT.code + rng.int(codeLen);
    case 2: return LAYOUT.rom + rng.int(0x1000);
    case 3: return LAYOUT.mmio + rng.int(0x100);
    case 4: case 5: return LAYOUT.dataCross - 8 + rng.int(12);
    default: return LAYOUT.data + rng.int(LAYOUT.dataSize);
  }
}

/** A generator of one program, keeping what the encoder needs to know about the mode. */
class Gen {
  readonly items: Item[] = [];
  /** Inside a counted loop: eCX is the counter, so nothing else writes it. */
  inLoop = false;
  constructor(readonly rng: Rng, readonly mode: Mode, readonly codeLen: number) {}

  /** ModRM (+SIB, displacement) for a memory operand at the mode's default address size. */
  private memModrm(reg: number, bytes: number[], itemAt: () => Item): void {
    const { rng, mode } = this;
    const disp8 = (): number => (rng.int(4) === 0 ? rng.int(256) : (rng.int(16) - 8) & 0xff);
    if (mode === 16) {
      const k = rng.int(8);
      if (k === 0) { // [disp16]: absolute within the segment
        const t = memTarget(rng, this.codeLen) - LAYOUT.segBase16;
        bytes.push((reg << 3) | 6, t & 0xff, (t >> 8) & 0xff);
        return;
      }
      const rm = rng.pick([7, 7, 4, 5, 6, 6, 0, 1, 2, 3]); // [bx] [si] [di] [bp] [bx+si] [bx+di] [bp+si] [bp+di]
      bytes.push(0x40 | (reg << 3) | rm, disp8());
      return;
    }
    const k = rng.int(10);
    if (k === 0) {
      const t = memTarget(rng, this.codeLen);
      if (mode === 32) { bytes.push((reg << 3) | 5, t & 0xff, (t >>> 8) & 0xff, (t >>> 16) & 0xff, 0); return; }
      if (rng.int(2) === 0) { // [disp32] through a SIB without base or index
        bytes.push((reg << 3) | 4, 0x25, t & 0xff, (t >>> 8) & 0xff, (t >>> 16) & 0xff, 0);
        return;
      }
      const at = bytes.length + 1; // RIP-relative, patched once the program is laid out
      bytes.push((reg << 3) | 5, 0, 0, 0, 0);
      const item = itemAt();
      item.ripRel = { at, to: t };
      return;
    }
    if (k === 1) { // [base + index*scale + disp8]
      const base = rng.pick([3, 6, 7, 0]), index = rng.pick([0, 1, 2, 6]), scale = rng.int(4);
      bytes.push(0x44 | (reg << 3), (scale << 6) | (index << 3) | base, disp8());
      return;
    }
    bytes.push(0x40 | (reg << 3) | rng.pick([3, 3, 5, 6, 7]), disp8());
  }

  /** Register numbers for ModRM fields: mostly the scratch registers, rarely the pointers. */
  private scratchReg(): number {
    if (this.inLoop) return this.rng.pick([0, 2]);
    return this.rng.int(8) === 0 ? this.rng.int(8) : this.rng.pick([0, 1, 2, 0, 2]);
  }

  instruction(): void {
    const { rng, mode } = this;
    let form = pickForm(rng, mode);
    while (this.inLoop && form.op.length === 1 && WRITES_ECX.includes(form.op[0]!)) form = pickForm(rng, mode);
    const pre: number[] = [];
    const p66 = form.vec ? rng.int(5) !== 0 : rng.int(5) === 0;
    if (p66) pre.push(0x66);
    let rex = 0;
    if (mode === 64 && rng.int(2) === 0) rex = 0x40 | rng.int(16);
    const rexW = (rex & 8) !== 0;
    if (form.str) {
      if (!this.inLoop && rng.int(2) === 0) {
        // A small count first (the REP runs within the slice), then REP or REPNE.
        this.emitMovCount(1 + rng.int(6));
        pre.push(rng.pick([0xf3, 0xf3, 0xf2]));
      }
    } else if (form.modrm !== 'none' && rng.int(40) === 0) {
      pre.push(0xf0); // LOCK: legal on some memory forms, #UD elsewhere
    }
    const bytes: number[] = [...pre];
    if (rex) bytes.push(rex);
    bytes.push(...form.op);
    const item: Item = { bytes };
    if (form.modrm !== 'none') {
      const reg = form.modrm === 'r' ? this.scratchReg() : rng.pick(form.modrm);
      if (form.memOnly || rng.int(5) < 2) this.memModrm(reg, bytes, () => item);
      else bytes.push(0xc0 | (reg << 3) | this.scratchReg());
    }
    const opSize = rexW ? 8 : mode === 16 ? (p66 ? 4 : 2) : p66 ? 2 : 4;
    const imm = form.imm ?? 0;
    const immBytes = imm === 'z' ? Math.min(opSize, 4) : imm === 'v' ? opSize : imm;
    for (let k = 0; k < immBytes; k++) bytes.push(rng.int(4) === 0 ? 0 : rng.int(256));
    // Lengths do not depend on rel/disp values, so the unpatched bytes decode to the final length.
    const buf = new Uint8Array(16);
    buf.set(bytes);
    try {
      if (decode(buf, mode).length !== bytes.length) throw new Error(`generator bug: ${hex(bytes)} is not one ${mode}-bit instruction`);
    } catch (e) {
      if (!(e instanceof VmmError)) throw e;
      if (rng.int(4) !== 0) return; // mostly valid code; now and then one that must #UD
      item.undecodable = true;
    }
    this.push(item);
  }

  /** MOV eCX, n (the count of LOOP and REP in every mode; the REX-less form in 64-bit). */
  emitMovCount(n: number): void {
    this.push({ bytes: this.mode === 16 ? [0xb9, n, 0] : [0xb9, n, 0, 0, 0] });
  }

  /** A forward Jcc/JMP/JrCXZ over a few of the next items (patched in Gen.program). */
  forwardBranch(): Item {
    const { rng, mode } = this;
    const k = rng.int(4);
    const here = this.items.length;
    const target = here + 1 + rng.int(4);
    if (k === 0) return this.push({ bytes: [0xeb, 0], branch: { at: 1, size: 1, target } });
    if (k === 1) return this.push({ bytes: [0xe3, 0], branch: { at: 1, size: 1, target } });
    if (k === 2) {
      const rel = mode === 16 ? 2 : 4;
      return this.push({ bytes: [0x0f, 0x80 + rng.int(16), ...new Array<number>(rel).fill(0)], branch: { at: 2, size: rel, target } });
    }
    return this.push({ bytes: [0x70 + rng.int(16), 0], branch: { at: 1, size: 1, target } });
  }

  push(item: Item): Item {
    this.items.push(item);
    return item;
  }
}

/**
 * A program of about n items ending in HLT: straight-line runs, forward branches, counted loops
 * (LOOP or DEC eCX + JNZ back to the body's start; a body may branch forward) and CALL +0 / POP
 * pairs.
 */
export function randomProgram(rng: Rng, mode: Mode, n: number): Program {
  const g = new Gen(rng, mode, n * 4);
  while (g.items.length < n) {
    const k = rng.int(20);
    if (k === 0) {
      // A counted loop: the body is straight-line, the back edge below.
      g.emitMovCount(2 + rng.int(5));
      const start = g.items.length;
      const body = 1 + rng.int(6);
      g.inLoop = true;
      // Some bodies branch forward inside themselves (or out): loops of several blocks.
      for (let i = 0; i < body; i++) {
        if (rng.int(4) === 0) g.forwardBranch();
        else g.instruction();
      }
      g.inLoop = false;
      const edge = rng.int(4);
      // LOOP, LOOPE/LOOPNE (they read ZF the body left, lazily computed or not), or DEC + JNZ.
      if (edge < 2) g.push({ bytes: [edge === 0 ? 0xe2 : rng.pick([0xe0, 0xe1]), 0], branch: { at: 1, size: 1, target: start } });
      else {
        g.push({ bytes: mode === 64 ? [0xff, 0xc9] : [0x49] });
        g.push({ bytes: [0x75, 0], branch: { at: 1, size: 1, target: start } });
      }
    } else if (k === 1) {
      g.forwardBranch();
    } else if (k === 2 && rng.int(3) === 0) {
      // CALL to the next instruction, then POP the return address into a scratch register.
      g.push({ bytes: mode === 16 ? [0xe8, 0, 0] : [0xe8, 0, 0, 0, 0] });
      g.push({ bytes: [0x58 + rng.pick([0, 2])] });
    } else {
      g.instruction();
    }
  }
  g.push({ bytes: [0xf4] });
  return layOut(g.items, mode);
}

/** Places the items from LAYOUT.code, patches branches and RIP-relative operands, checks each decodes. */
function layOut(items: Item[], mode: Mode): Program {
  const starts: number[] = [];
  let at = 0;
  for (const it of items) { starts.push(at); at += it.bytes.length; }
  starts.push(at);
  const out = new Uint8Array(at);
  items.forEach((it, i) => {
    const end = starts[i]! + it.bytes.length;
    const b = it.bytes.slice();
    const put = (pos: number, size: number, v: number): void => {
      for (let k = 0; k < size; k++) b[pos + k] = (v >> (8 * k)) & 0xff;
    };
    if (it.branch) {
      const rel = starts[Math.min(it.branch.target, items.length - 1)]! - end;
      // A rel8 that cannot reach becomes a jump to the next instruction (still a valid branch).
      const fits = it.branch.size !== 1 || (rel >= -128 && rel <= 127);
      put(it.branch.at, it.branch.size, fits ? rel : 0);
    }
    if (it.ripRel) put(it.ripRel.at, 4, it.ripRel.to - (LAYOUT.code + end));
    out.set(b, starts[i]!);
  });
  // Every instruction decodes to exactly the bytes generated for it.
  items.forEach((it, i) => {
    if (it.undecodable) return;
    const slice = new Uint8Array(16);
    slice.set(out.subarray(starts[i]!, starts[i]! + 15));
    const insn = decode(slice, mode);
    if (insn.length !== it.bytes.length) {
      throw new Error(`generator bug: ${hex(it.bytes)} decodes as ${insn.mnemonic} of ${insn.length} bytes in ${mode}-bit code`);
    }
  });
  return { bytes: out, starts: starts.map((s) => LAYOUT.code + s) };
}
