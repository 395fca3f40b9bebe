/**
 * A tiny x86-64 encoder for the executor tests: builds both the machine code (for the native
 * oracle) and the matching Instruction record (for execute()), independently of the decoder.
 * Covers ModRM forms (register, or [base + disp8]), opcode+register forms and immediates.
 */
import type { Instruction, MemoryOperand } from '../../src/x86/instruction.js';
import { REG_NONE, SEG_DS, SEG_SS } from '../../src/x86/instruction.js';

export interface EncSpec {
  map?: 0 | 1 | 2;
  opcode: number;
  opSize: 1 | 2 | 4 | 8;
  /** ModRM.reg: a register or the /digit. */
  reg?: number;
  /** ModRM.rm register (mod 3), or the base register of [base + disp8]. */
  rm?: number;
  /** Memory form [rm + disp8] (rm must not be 4/12). */
  disp8?: number;
  /** Memory form with a SIB byte: [base + index * scale + disp32] (base -1: none, index -1: none). */
  sib?: { base: number; index: number; scale: 1 | 2 | 4 | 8; disp32: number };
  /** Opcode-register form (B8+r, 50+r...): no ModRM. */
  opReg?: number;
  /** No ModRM and no register in the opcode (CBW, LAHF, string ops...). */
  bare?: boolean;
  /** Immediate: size in bytes, whether the decoder sign-extends it to the operand size. */
  imm?: { bytes: 1 | 2 | 4 | 8; value: bigint; signExtend: boolean };
  /** MOV A0-A3: the absolute offset (8 bytes, or 4 with addrSize 4). */
  moffs?: number;
  /** A second immediate byte (ENTER's nesting level). */
  imm2?: number;
  rep?: 0 | 0xf2 | 0xf3;
  /** Emit a REX prefix even when no bit is needed (byte registers SPL..DIL instead of AH..BH). */
  forceRex?: boolean;
  /** Operand size 8 without REX.W (default-64 instructions). */
  noRexW?: boolean;
  /** 66 prefix emitted although opSize is not 2 (mandatory-prefix forms), or suppressed. */
  noOpsizePrefix?: boolean;
  addrSize?: 4 | 8;
  /** A mandatory 66 prefix (it does not change opSize). */
  prefix66?: boolean;
  mnemonic?: string;
}

export interface Encoded { bytes: Uint8Array; insn: Instruction }

export function encode(s: EncSpec): Encoded {
  const out: number[] = [];
  const map = s.map ?? 0;
  const reg = s.reg ?? 0, rm = s.opReg ?? s.rm ?? 0;
  const opsizePrefix = s.opSize === 2 && !s.noOpsizePrefix;
  const addrSize = s.addrSize ?? 8;
  if (opsizePrefix || s.prefix66) out.push(0x66);
  if (addrSize === 4) out.push(0x67);
  if (s.rep) out.push(s.rep);
  let rex = 0;
  if (s.opSize === 8 && !s.noRexW) rex |= 0x48;
  if (!s.bare && s.opReg === undefined && reg >= 8) rex |= 0x44;
  if (!s.bare && s.sib === undefined && rm >= 8) rex |= 0x41;
  if (s.sib && s.sib.base >= 8) rex |= 0x41;
  if (s.sib && s.sib.index >= 8) rex |= 0x42;
  if (s.forceRex) rex |= 0x40;
  if (rex) out.push(rex);
  if (map >= 1) out.push(0x0f);
  if (map === 2) out.push(0x38);
  out.push(s.opcode);
  const hasModrm = !s.bare && s.opReg === undefined;
  let mem: MemoryOperand | null = null;
  let mod = 0;
  if (hasModrm && s.sib) {
    const { base, index, scale, disp32 } = s.sib;
    // mod 10 + SIB, or mod 00 with SIB.base 101 (no base, disp32).
    mod = base < 0 ? 0 : 2;
    out.push((mod << 6) | ((reg & 7) << 3) | 4);
    out.push(([1, 2, 4, 8].indexOf(scale) << 6) | ((index < 0 ? 4 : index & 7) << 3) | (base < 0 ? 5 : base & 7));
    for (let i = 0; i < 4; i++) out.push((disp32 >>> (8 * i)) & 0xff);
    mem = { seg: base === 4 || base === 5 ? SEG_SS : SEG_DS, base: base < 0 ? REG_NONE : base,
      index: index < 0 ? REG_NONE : index, scale, disp: disp32 | 0 };
  } else if (hasModrm) {
    if (s.disp8 === undefined) {
      mod = 3;
      out.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
    } else {
      if ((rm & 7) === 4) throw new Error('encode: base rsp/r12 needs a SIB');
      mod = 1;
      out.push(0x40 | ((reg & 7) << 3) | (rm & 7));
      out.push(s.disp8 & 0xff);
      mem = { seg: (rm & 7) === 5 ? SEG_SS : SEG_DS, base: rm, index: REG_NONE, scale: 1, disp: s.disp8 };
    }
  }
  if (s.moffs !== undefined) {
    const n = addrSize === 8 ? 8 : 4;
    let v = BigInt(s.moffs);
    for (let i = 0; i < n; i++) { out.push(Number(v & 0xffn)); v >>= 8n; }
    mem = { seg: SEG_DS, base: REG_NONE, index: REG_NONE, scale: 1, disp: s.moffs };
  }
  let imm = 0, immHi = 0;
  if (s.imm) {
    const { bytes, value, signExtend } = s.imm;
    const raw = BigInt.asUintN(bytes * 8, value);
    for (let i = 0; i < bytes; i++) out.push(Number((raw >> BigInt(8 * i)) & 0xffn));
    const ext = signExtend ? BigInt.asIntN(bytes * 8, raw) : raw;
    const full = BigInt.asUintN(64, ext);
    imm = Number(BigInt.asIntN(32, full & 0xffffffffn));
    immHi = s.opSize === 8 || bytes === 8 ? Number(BigInt.asIntN(32, full >> 32n)) : 0;
  }
  if (s.imm2 !== undefined) out.push(s.imm2 & 0xff);
  const insn: Instruction = {
    length: out.length, mode: 64, map, opcode: s.opcode, mnemonic: s.mnemonic ?? 'encoded',
    opSize: s.opSize, addrSize, lock: false, rep: s.rep ?? 0, segOverride: -1, opsizePrefix: opsizePrefix || !!s.prefix66,
    addrsizePrefix: addrSize === 4, rex, hasModrm, mod: hasModrm ? mod : 0,
    reg: hasModrm ? reg : 0, rm: hasModrm ? rm : 0, mem, imm, immHi, imm2: s.imm2 ?? 0, operands: [], vex: 0,
  };
  return { bytes: new Uint8Array(out), insn };
}

export function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
