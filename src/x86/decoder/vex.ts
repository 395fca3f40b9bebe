/**
 * VEX (C4/C5), EVEX (62) and XOP (8F) prefixes: decoded for length only. Outside 64-bit mode
 * C4/C5/62 are VEX/EVEX only when the next byte looks like ModRM.mod = 11b (LES/LDS/BOUND need
 * a memory operand, so that encoding space was free); 8F is XOP only when its map field is >= 8
 * (POP Ev has ModRM.reg = 0).
 */
import type { CodeMode, Instruction, OpcodeMap } from '../instruction.js';
import type { ByteCursor } from './cursor.js';
import { decodeMemoryOperand } from './memory-operand.js';
import { memOperand } from './operand-objects.js';
import { hasVexForbiddenPrefix, prefixes } from './prefixes.js';

export interface VexForm {
  /** Prefix length: 2 (C5), 3 (C4, XOP), 4 (EVEX). */
  prefixBytes: 2 | 3 | 4;
  /** Opcode map; XOP maps 8..10 are reported as the nearest legacy map for OpcodeMap's sake (see xopMap). */
  map: OpcodeMap;
  /** XOP map number (8, 9, 10) or 0. */
  xopMap: number;
  opcode: number;
  /** REX-equivalent bits (W R X B) from the prefix, for ModRM/SIB register extension in 64-bit mode. */
  rex: number;
  modrm: boolean;
  /** Bytes of immediate after ModRM/SIB/displacement: 0, 1 or 4 (XOP map 10). */
  immBytes: number;
  mnemonic: string;
}

export const vexForm: VexForm = {
  prefixBytes: 2, map: 1, xopMap: 0, opcode: 0, rex: 0, modrm: true, immBytes: 0, mnemonic: 'vex',
};

/** Opcodes of map 0F that take an imm8 under VEX/EVEX (the PSHUF/shift-by-imm/CMP/PINSR/SHUF family). */
const IMM8_0F = new Uint8Array(256);
for (const op of [0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6]) IMM8_0F[op] = 1;

/** Whether escape byte `first` (C4 C5 62 8F) starts a VEX/EVEX/XOP prefix, given the byte after it. */
export function isVexEscape(first: number, next: number, mode: CodeMode): boolean {
  if (first === 0x8f) return (next & 0x1f) >= 8;
  return mode === 64 || (next & 0xc0) === 0xc0;
}

/** Rebuilds REX.W/R/X/B from a VEX/EVEX/XOP payload byte with inverted R X B in bits 7..5. */
function rexFrom(rxb: number, w: number, mode: CodeMode): number {
  if (mode !== 64) return 0;
  const inv = ~rxb;
  return ((inv >> 5) & 4) | ((inv >> 5) & 2) | ((inv >> 5) & 1) | (w ? 8 : 0);
}

/**
 * Reads the prefix after escape byte `first` (already consumed) and the opcode byte into vexForm.
 * Returns a reason string for an invalid form, or null.
 */
export function scanVex(c: ByteCursor, first: number, mode: CodeMode): string | null {
  const v = vexForm;
  const p1 = c.u8();
  v.xopMap = 0;
  if (first === 0xc5) {
    v.prefixBytes = 2;
    v.map = 1;
    v.rex = rexFrom(p1 | 0x60, 0, mode);
    v.mnemonic = 'vex';
  } else if (first === 0xc4 || first === 0x8f) {
    const p2 = c.u8();
    const m = p1 & 0x1f;
    v.prefixBytes = 3;
    v.rex = rexFrom(p1, p2 & 0x80, mode);
    if (first === 0xc4) {
      if (m < 1 || m > 3) return `VEX map ${m}`;
      v.map = m as OpcodeMap;
      v.mnemonic = 'vex';
    } else {
      if (m > 10) return `XOP map ${m}`;
      v.xopMap = m;
      v.map = m === 9 ? 2 : m === 8 ? 3 : 1;
      v.mnemonic = 'xop';
    }
  } else {
    const p2 = c.u8();
    c.u8(); // P3: z L'L b V' aaa
    const m = p1 & 7;
    v.prefixBytes = 4;
    v.rex = rexFrom(p1, p2 & 0x80, mode);
    v.mnemonic = 'evex';
    if ((p2 & 4) === 0) return 'EVEX payload bit 10 clear';
    if (m === 0 || m === 4 || m === 7) return `EVEX map ${m}`;
    // Maps 5 and 6 (AVX512-FP16) take no immediate, like 0F 38; report them under map 2.
    v.map = (m >= 5 ? 2 : m) as OpcodeMap;
  }
  const op = c.u8();
  v.opcode = op;
  if (v.xopMap !== 0) {
    v.modrm = true;
    v.immBytes = v.xopMap === 8 ? 1 : v.xopMap === 10 ? 4 : 0;
  } else {
    v.modrm = !(v.map === 1 && op === 0x77 && v.prefixBytes !== 4); // VZEROUPPER/VZEROALL
    v.immBytes = v.map === 3 || (v.map === 1 && IMM8_0F[op] === 1) ? 1 : 0;
  }
  return null;
}

/** A VEX/EVEX/XOP instruction: length, map, opcode, memory operand; mnemonic 'vex'/'evex'/'xop'. */
export function decodeVex(c: ByteCursor, first: number, mode: CodeMode, offset: number, addrSize: 2 | 4 | 8, memSeg: number): Instruction {
  if (hasVexForbiddenPrefix()) c.invalid('66/F2/F3/F0/REX before a VEX/EVEX/XOP prefix');
  const why = scanVex(c, first, mode);
  if (why !== null) c.invalid(why);
  const v = vexForm;
  const modrm = v.modrm ? c.u8() : -1;
  const mem = modrm >= 0 && modrm < 0xc0 ? decodeMemoryOperand(c, modrm, addrSize, mode, v.rex, memSeg) : null;
  let immLo = 0;
  if (v.immBytes === 1) immLo = c.u8();
  else if (v.immBytes === 4) immLo = c.i32();
  const p = prefixes;
  return {
    length: c.pos - offset,
    mode,
    map: v.map,
    opcode: v.opcode,
    mnemonic: v.mnemonic,
    opSize: v.rex & 8 ? 8 : 4,
    addrSize,
    lock: false,
    rep: 0,
    segOverride: p.seg,
    opsizePrefix: false,
    addrsizePrefix: p.addrsize,
    rex: 0,
    hasModrm: modrm >= 0,
    mod: modrm < 0 ? 0 : modrm >> 6,
    reg: modrm < 0 ? 0 : ((modrm >> 3) & 7) | ((v.rex & 4) << 1),
    rm: modrm < 0 ? 0 : modrm >= 0xc0 ? (modrm & 7) | ((v.rex & 1) << 3) : modrm & 7,
    mem,
    imm: immLo,
    immHi: 0,
    imm2: 0,
    operands: mem === null ? [] : [memOperand(0)],
    vex: v.prefixBytes,
  };
}
