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
import type { CodeMode, Instruction, MemoryOperand, OpcodeMap } from '../instruction.js';
import { ByteCursor } from './cursor.js';
import { decodeMemoryOperand } from './memory-operand.js';
import { Method, FLAG_BITS } from './opcode-entry.js';
import type { Entry, LeafEntry } from './opcode-entry.js';
import { ONE_BYTE_MAP } from './map-one-byte.js';
import { MAP_0F38, MAP_0F3A, TWO_BYTE_MAP } from './map-0f.js';
import { decodeOperands, decoded, operandContext, resolveSize } from './operand-decoder.js';
import { prefixes, scanPrefixes } from './prefixes.js';
import { decodeVex, isVexEscape } from './vex.js';

export { MAX_INSN_LENGTH } from './cursor.js';

const I64 = FLAG_BITS.i64, O64 = FLAG_BITS.o64, D64 = FLAG_BITS.d64, F64 = FLAG_BITS.f64;
const LK = FLAG_BITS.lk, OCR = FLAG_BITS.ocr, N66 = FLAG_BITS.n66;
const ASZ = FLAG_BITS.asz, NAT = FLAG_BITS.nat;

const MAPS: readonly (readonly Entry[])[] = [ONE_BYTE_MAP, TWO_BYTE_MAP, MAP_0F38, MAP_0F3A];

/** One cursor for all calls: decoding is synchronous and never re-enters itself. */
const cursor = new ByteCursor();

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
  const memSeg = p.seg;
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

  const x = operandContext;
  x.mode = mode; x.os = os; x.addrSize = addrSize; x.rex = rex; x.opcode = b; x.modrm = modrm;
  x.regForm = regForm; x.regField = regField; x.rmField = rmField; x.mem = mem; x.memSeg = memSeg; x.lock = p.lock;
  const operands = decodeOperands(c, leaf, x);

  const nameSize = f & ASZ ? addrSize : os;
  let mnemonic = leaf.names[nameSize === 2 ? 0 : nameSize === 4 ? 1 : 2];
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
    mem: mem ?? decoded.moffs,
    imm: decoded.imm,
    immHi: decoded.immHi,
    imm2: decoded.imm2,
    operands,
    vex: 0,
  };
}
