/**
 * The x86 instruction decoder: bytes -> Instruction (src/x86/instruction.ts), for 16-, 32- and
 * 64-bit code. Table-driven: the opcode maps are data (map-*.ts, compiled by opcode-entry.ts);
 * this file walks prefixes, escapes, ModRM/SIB/displacement and immediates, and applies the
 * operand-size and address-size rules.
 *
 * Errors: invalid or undefined encodings and the 15-byte limit -> VmmError ENODEV (message
 * shows the bytes); running out of the given bytes -> VmmError EFAULT 'truncated'. Nothing else
 * is thrown, and no byte beyond offset + 14 is ever read.
 */
import { VmmError } from '../../api/errors.js';
import type { CodeMode, Instruction, MemoryOperand, Operand, OpcodeMap } from '../instruction.js';
import { REG_NONE, SEG_CS, SEG_DS } from '../instruction.js';
import { ByteCursor } from './cursor.js';
import { decodeMemoryOperand } from './memory-operand.js';
import { Method, Size, FLAG_BITS } from './opcode-entry.js';
import type { Entry, LeafEntry } from './opcode-entry.js';
import { ONE_BYTE_MAP } from './map-one-byte.js';
import { MAP_0F38, MAP_0F3A, TWO_BYTE_MAP } from './map-0f.js';
import { prefixes, scanPrefixes, hasVexForbiddenPrefix } from './prefixes.js';
import { isVexEscape, scanVex, vexForm } from './vex.js';
import {
  CONSTANT_ONE, FAR_OPERAND, PORT_DX, crOperand, drOperand, immOperand, memOperand, regOperand,
  relOperand, segOperand, stringDestination, stringSource,
} from './operand-objects.js';

export { MAX_INSN_LENGTH } from './cursor.js';

const I64 = FLAG_BITS.i64, O64 = FLAG_BITS.o64, D64 = FLAG_BITS.d64, F64 = FLAG_BITS.f64;
const LK = FLAG_BITS.lk, SX = FLAG_BITS.sx, OCR = FLAG_BITS.ocr, N66 = FLAG_BITS.n66;
const ASZ = FLAG_BITS.asz, NAT = FLAG_BITS.nat;

const MAPS: readonly (readonly Entry[])[] = [ONE_BYTE_MAP, TWO_BYTE_MAP, MAP_0F38, MAP_0F3A];
const TWO32 = 4294967296;

/** One cursor for all calls: decoding is synchronous and never re-enters itself. */
const cursor = new ByteCursor();

/** Immediate accumulation across the operand loop (first immediate -> imm/immHi, second -> imm2). */
let immCount = 0, imm = 0, immHi = 0, imm2 = 0;

function setImmediate(lo: number, hi: number): void {
  if (immCount++ === 0) {
    imm = lo;
    immHi = hi;
  } else imm2 = lo;
}

/** Resolves a size code against the operand size, mode and ModRM form. */
function resolveSize(code: number, os: number, mode: CodeMode, regForm: boolean): number {
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

export function decode(bytes: Uint8Array, mode: CodeMode, offset = 0): Instruction {
  if (mode !== 16 && mode !== 32 && mode !== 64) {
    throw new VmmError('EINVAL', `decode: code mode ${String(mode)} is not 16, 32 or 64`);
  }
  if (!(bytes instanceof Uint8Array)) throw new VmmError('EINVAL', 'decode: bytes must be a Uint8Array');
  if (!Number.isSafeInteger(offset) || offset < 0) throw new VmmError('EINVAL', `decode: bad offset ${String(offset)}`);
  if (offset >= bytes.length) {
    throw new VmmError('EFAULT', `truncated instruction: offset ${offset} is at or past the end of the ${bytes.length}-byte buffer`);
  }
  const c: ByteCursor = cursor;
  c.reset(bytes, offset);
  const p = prefixes;
  let b = scanPrefixes(c, mode);
  const rex = p.rex;
  // In 64-bit mode only FS and GS overrides take part in addressing.
  const memSeg = mode === 64 && p.seg < 4 ? -1 : p.seg;
  const addrSize: 2 | 4 | 8 = mode === 64 ? (p.addrsize ? 4 : 8) : (mode === 16) !== p.addrsize ? 2 : 4;

  let map: OpcodeMap = 0;
  if (b === 0x0f) {
    b = c.u8();
    if (b === 0x38) { map = 2; b = c.u8(); } else if (b === 0x3a) { map = 3; b = c.u8(); } else map = 1;
  } else if ((b === 0xc4 || b === 0xc5 || b === 0x62 || b === 0x8f) && isVexEscape(b, c.peek(), mode)) {
    return decodeVex(c, b, mode, offset, addrSize, memSeg);
  }

  // Walk the dispatch tables down to a leaf, reading ModRM when a group needs it.
  let e: Entry = MAPS[map][b];
  let modrm = -1;
  while (e !== null && e.kind !== 'leaf') {
    if (e.kind === 'prefix') e = e.sub[p.rep === 0xf3 ? 2 : p.rep === 0xf2 ? 3 : p.opsize ? 1 : 0];
    else if (e.kind === 'mode') e = e.sub[mode === 64 ? 1 : 0];
    else {
      if (modrm < 0) modrm = c.u8();
      e = e.kind === 'group' ? e.sub[((modrm >> 3) & 7) | (modrm >= 0xc0 ? 8 : 0)] : e.sub[modrm & 7];
    }
  }
  if (e === null) c.invalid('undefined opcode');
  const leaf: LeafEntry = e;
  const f = leaf.flags;
  if (mode === 64 ? f & I64 : f & O64) c.invalid(mode === 64 ? 'not valid in 64-bit mode' : 'valid only in 64-bit mode');
  if (leaf.modrm && modrm < 0) modrm = c.u8();

  // Operand size.
  const op66 = p.opsize && (f & N66) === 0;
  let os: 2 | 4 | 8;
  if (f & (OCR | NAT)) os = mode === 64 ? 8 : 4;
  else if (mode === 64) os = rex & 8 || f & F64 ? 8 : op66 ? 2 : f & D64 ? 8 : 4;
  else os = (mode === 16) !== op66 ? 2 : 4;

  // ModRM: control/debug register moves ignore mod and always name a register.
  const regForm = modrm >= 0xc0 || (modrm >= 0 && (f & OCR) !== 0);
  const mem: MemoryOperand | null = modrm >= 0 && !regForm ? decodeMemoryOperand(c, modrm, addrSize, mode, rex, memSeg) : null;
  const specs = leaf.ops;
  const regField = modrm < 0 ? 0 : ((modrm >> 3) & 7) | ((rex & 4) << 1);
  const rmField = modrm < 0 ? 0 : regForm ? (modrm & 7) | ((rex & 1) << 3) : modrm & 7;

  // LOCK: only lockable instructions with a memory destination, and MOV CR (AMD's CR8 alias).
  const lockable = f & LK ? mem !== null : (f & OCR) !== 0 && (specs[0].method === Method.C || specs[1].method === Method.C);
  if (p.lock && !lockable) {
    c.invalid(`LOCK prefix not allowed with ${leaf.names[1]}${mem === null ? ' (no memory destination)' : ''}`);
  }

  immCount = 0; imm = 0; immHi = 0; imm2 = 0;
  let moffs: MemoryOperand | null = null;
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
        operands.push(regOperand((b & 7) | ((rex & 1) << 3), resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.Reg:
        operands.push(regOperand(s.reg, resolveSize(s.size, os, mode, true), rex));
        break;
      case Method.S: {
        const sreg = (modrm >> 3) & 7;
        if (sreg > 5 || (i === 0 && sreg === SEG_CS)) c.invalid(`segment register ${sreg}`);
        operands.push(segOperand(sreg));
        break;
      }
      case Method.Seg:
        operands.push(segOperand(s.reg));
        break;
      case Method.C: {
        const n = regField | (p.lock ? 8 : 0);
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
        if (addrSize === 2) disp = c.u16();
        else if (addrSize === 4) disp = c.i32();
        else {
          const lo = c.i32();
          disp = c.i32() * TWO32 + (lo >>> 0);
        }
        moffs = { seg: memSeg >= 0 ? memSeg : SEG_DS, base: REG_NONE, index: REG_NONE, scale: 1, disp };
        operands.push(memOperand(resolveSize(s.size, os, mode, false)));
        break;
      }
      case Method.A: {
        const off = os === 2 ? c.u16() : c.i32();
        setImmediate(off, 0);
        imm2 = c.u16();
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

  let mnemonic = leaf.names[(f & ASZ ? addrSize : os) === 2 ? 0 : (f & ASZ ? addrSize : os) === 4 ? 1 : 2];
  // 90 is XCHG rAX,rAX only with REX.B (xchg r8, rax); otherwise NOP, or PAUSE with F3.
  if (map === 0 && b === 0x90 && (rex & 1) === 0) {
    mnemonic = p.rep === 0xf3 ? 'pause' : 'nop';
    operands.length = 0;
  }
  let opSize: 1 | 2 | 4 | 8 = os;
  if (leaf.sizingOp >= 0) {
    const sz = resolveSize(specs[leaf.sizingOp].size, os, mode, regForm);
    if (sz === 1 || sz === 2 || sz === 4 || sz === 8) opSize = sz;
  }

  return {
    length: c.pos - offset,
    mode,
    map,
    opcode: b,
    mnemonic,
    opSize,
    addrSize,
    lock: p.lock,
    rep: p.rep,
    segOverride: p.seg,
    opsizePrefix: p.opsize,
    addrsizePrefix: p.addrsize,
    rex,
    hasModrm: modrm >= 0,
    mod: modrm < 0 ? 0 : regForm ? 3 : modrm >> 6,
    reg: regField,
    rm: rmField,
    mem: mem ?? moffs,
    imm,
    immHi,
    imm2,
    operands,
    vex: 0,
  };
}

/** A VEX/EVEX/XOP instruction: length, map, opcode, memory operand; mnemonic 'vex'/'evex'/'xop'. */
function decodeVex(c: ByteCursor, first: number, mode: CodeMode, offset: number, addrSize: 2 | 4 | 8, memSeg: number): Instruction {
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
