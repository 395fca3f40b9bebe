/**
 * Data movement: MOV (88-8B, A0-A3 moffs, B0-BF, C6/C7 /0), MOVZX/MOVSX (0F B6 B7 BE BF),
 * MOVSXD (63 in 64-bit mode), LEA, XCHG (86/87, 90-97), CMOVcc, SETcc, BSWAP, MOVBE,
 * CBW/CWDE/CDQE, CWD/CDQ/CQO, XLAT, and the NOP forms (90, F3 90 PAUSE, 0F 18-1F hint space).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { advance, eaOut, effectiveAddress, effectiveAddressPair, wrapAddress } from './address.js';
import { conditionOf } from './lazy-flags.js';
import { crc32 } from './ops-crc32.js';
import { dataSegment, memRead, regRead, regWrite, requireMemory, rmAddress, rmRead, rmWrite, immediate } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { lockable, on, range } from './table.js';
import { cmovFalseWritesReg } from './undefined-flags.js';

const TWO32 = 4294967296;

/** The register encoded in the low opcode bits (B0+r, 50+r, 90+r, 0F C8+r), with REX.B. */
export function opcodeReg(insn: Instruction): number {
  return (insn.opcode & 7) | ((insn.rex & 1) << 3);
}

/** 88/89 MOV r/m, reg; 8A/8B MOV reg, r/m. */
function movRmReg(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  if (insn.opcode <= 0x89) {
    const v = regRead(ctx, insn, size), vh = half.hi;
    rmWrite(ctx, insn, size, rmAddress(ctx, insn), v, vh);
  } else {
    const v = rmRead(ctx, insn, size, rmAddress(ctx, insn)), vh = half.hi;
    regWrite(ctx, insn, size, v, vh);
  }
  advance(ctx, insn);
  return true;
}

/** A0-A3: MOV AL/rAX <-> moffs (insn.mem has no base or index). */
function movMoffs(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize, m = insn.mem!;
  const addr = effectiveAddress(ctx, insn);
  if (insn.opcode <= 0xa1) {
    const v = memRead(ctx, m.seg, addr, size), vh = half.hi;
    writeGpr(ctx, 0, size, 0, v, vh);
  } else {
    const v = readGpr(ctx, 0, size, 0), vh = half.hi;
    ctx.write(m.seg, addr, size as 1 | 2 | 4 | 8, v, vh);
  }
  advance(ctx, insn);
  return true;
}

/** B0-B7 MOV r8, imm8; B8-BF MOV r, imm (imm64 with REX.W). */
function movRegImm(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const v = immediate(insn, size), vh = half.hi;
  writeGpr(ctx, opcodeReg(insn), size, insn.rex, v, vh);
  advance(ctx, insn);
  return true;
}

/** C6/C7 /0 MOV r/m, imm (other /n: XABORT/XBEGIN, not handled). */
function movRmImm(ctx: ExecContext, insn: Instruction): boolean {
  if ((insn.reg & 7) !== 0) return false;
  const size = insn.opSize;
  const v = immediate(insn, size), vh = half.hi;
  rmWrite(ctx, insn, size, rmAddress(ctx, insn), v, vh);
  advance(ctx, insn);
  return true;
}

/** 0F B6/B7 MOVZX, 0F BE/BF MOVSX. */
function movExtend(ctx: ExecContext, insn: Instruction): boolean {
  const srcSize = (insn.opcode & 1) === 0 ? 1 : 2, size = insn.opSize;
  let v = rmRead(ctx, insn, srcSize, rmAddress(ctx, insn));
  if (insn.opcode >= 0xbe) v = srcSize === 1 ? (v << 24) >> 24 : (v << 16) >> 16;
  regWrite(ctx, insn, size, v, v < 0 ? -1 : 0);
  advance(ctx, insn);
  return true;
}

/** 63 in 64-bit mode: MOVSXD reg, r/m32 (ARPL elsewhere: not handled). */
function movsxd(ctx: ExecContext, insn: Instruction): boolean {
  if (ctx.mode !== 64) return false;
  const size = insn.opSize;
  const v = rmRead(ctx, insn, size === 8 ? 4 : size, rmAddress(ctx, insn));
  regWrite(ctx, insn, size, v, v < 0 ? -1 : 0);
  advance(ctx, insn);
  return true;
}

/** 8D LEA: the effective address, truncated or zero-extended to the operand size. */
function lea(ctx: ExecContext, insn: Instruction): boolean {
  requireMemory(insn);
  effectiveAddressPair(ctx, insn);
  regWrite(ctx, insn, insn.opSize, eaOut.lo, eaOut.hi);
  advance(ctx, insn);
  return true;
}

/** 86/87 XCHG r/m, reg (memory forms are implicitly locked: read then write). */
function xchgRm(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const addr = rmAddress(ctx, insn);
  const r = regRead(ctx, insn, size), rh = half.hi;
  const m = rmRead(ctx, insn, size, addr), mh = half.hi;
  rmWrite(ctx, insn, size, addr, r, rh);
  regWrite(ctx, insn, size, m, mh);
  advance(ctx, insn);
  return true;
}

/** 90-97: XCHG rAX, r. 90 without REX.B is NOP (also F3 90 PAUSE): EAX is not zero-extended. */
function xchgAcc(ctx: ExecContext, insn: Instruction): boolean {
  const n = opcodeReg(insn);
  if (n !== 0) {
    const size = insn.opSize;
    const a = readGpr(ctx, 0, size, 0), ah = half.hi;
    const b = readGpr(ctx, n, size, 0), bh = half.hi;
    writeGpr(ctx, 0, size, 0, b, bh);
    writeGpr(ctx, n, size, 0, a, ah);
  }
  advance(ctx, insn);
  return true;
}

/** 0F 40-4F CMOVcc reg, r/m: the source is read even when the condition is false. */
function cmov(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const v = rmRead(ctx, insn, size, rmAddress(ctx, insn)), vh = half.hi;
  if (conditionOf(ctx, insn.opcode & 15)) {
    regWrite(ctx, insn, size, v, vh);
  } else if (size === 4 && cmovFalseWritesReg()) {
    regWrite(ctx, insn, 4, regRead(ctx, insn, 4), 0);
  }
  advance(ctx, insn);
  return true;
}

/** 0F 90-9F SETcc r/m8. */
function setcc(ctx: ExecContext, insn: Instruction): boolean {
  rmWrite(ctx, insn, 1, rmAddress(ctx, insn), conditionOf(ctx, insn.opcode & 15) ? 1 : 0, 0);
  advance(ctx, insn);
  return true;
}

export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** 0F C8-CF BSWAP r32/r64 (16-bit form: the low word becomes 0, as hardware does). */
function bswap(ctx: ExecContext, insn: Instruction): boolean {
  const n = opcodeReg(insn), size = insn.opSize;
  const v = readGpr(ctx, n, size, insn.rex), vh = half.hi;
  if (size === 8) writeGpr(ctx, n, 8, 0, bswap32(vh), bswap32(v));
  else if (size === 4) writeGpr(ctx, n, 4, 0, bswap32(v), 0);
  else writeGpr(ctx, n, 2, 0, 0, 0);
  advance(ctx, insn);
  return true;
}

/** Byte-reverses a value of size 2/4/8 (lo, hi) -> lo, hi in half.hi. */
function byteSwap(size: number, v: number, vh: number): number {
  if (size === 8) { half.hi = bswap32(v); return bswap32(vh); }
  half.hi = 0;
  return size === 4 ? bswap32(v) : ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

/** 0F 38 F0 MOVBE reg, m; 0F 38 F1 MOVBE m, reg (with F2: CRC32). */
function movbe(ctx: ExecContext, insn: Instruction): boolean {
  if (insn.rep === 0xf2) return crc32(ctx, insn);
  requireMemory(insn);
  const size = insn.opSize;
  const addr = effectiveAddress(ctx, insn);
  if (insn.opcode === 0xf0) {
    const v = memRead(ctx, insn.mem!.seg, addr, size), vh = half.hi;
    const r = byteSwap(size, v, vh);
    regWrite(ctx, insn, size, r, half.hi);
  } else {
    const v = regRead(ctx, insn, size), vh = half.hi;
    const r = byteSwap(size, v, vh);
    ctx.write(insn.mem!.seg, addr, size as 1 | 2 | 4 | 8, r, half.hi);
  }
  advance(ctx, insn);
  return true;
}

/** 98: CBW / CWDE / CDQE. */
function convertAcc(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  if (size === 2) writeGpr(ctx, 0, 2, 0, (ctx.regs[0] << 24) >> 24, 0);
  else if (size === 4) writeGpr(ctx, 0, 4, 0, (ctx.regs[0] << 16) >> 16, 0);
  else writeGpr(ctx, 0, 8, 0, ctx.regs[0], ctx.regs[0] >> 31);
  advance(ctx, insn);
  return true;
}

/** 99: CWD / CDQ / CQO: rDX = the sign of rAX. */
function convertAccWide(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  let fill: number;
  if (size === 2) fill = (ctx.regs[0] << 16) >> 31;
  else if (size === 4) fill = ctx.regs[0] >> 31;
  else fill = ctx.regs[1] >> 31;
  writeGpr(ctx, 2, size, 0, fill, fill);
  advance(ctx, insn);
  return true;
}

/** D7 XLAT: AL = [seg:rBX + AL]. */
function xlat(ctx: ExecContext, insn: Instruction): boolean {
  const seg = dataSegment(ctx, insn);
  const al = ctx.regs[0] & 0xff;
  let base: number;
  if (insn.addrSize === 8) base = ctx.regs[7] * TWO32 + (ctx.regs[6] >>> 0);
  else base = ctx.regs[6] >>> 0;
  const v = memRead(ctx, seg, wrapAddress(base + al, insn.addrSize), 1);
  writeGpr(ctx, 0, 1, 0, v, 0);
  advance(ctx, insn);
  return true;
}

/** Hint-space NOPs (0F 0D PREFETCHW, 0F 18-1F: multi-byte NOP, prefetch hints, ENDBR). */
function nop(ctx: ExecContext, insn: Instruction): boolean {
  advance(ctx, insn);
  return true;
}
const HINT_NOPS: readonly number[] = [0x0d, ...range(0x18, 0x1f)];

/**
 * Whether executing insn only moves RIP past it: the hint-space NOPs (nop above, whatever the
 * operand size or memory operand: nothing is read) and 90 without REX.B (NOP, PAUSE: xchgAcc
 * with register 0). LOCK is not asked about (it makes them #UD). A block compiler emits no
 * code for these (block-inline.ts): the kernel's functions each begin with a 5-byte NOP.
 */
export function onlyAdvances(insn: Instruction): boolean {
  if (insn.map === 1) return HINT_NOPS.includes(insn.opcode);
  return insn.map === 0 && insn.opcode === 0x90 && opcodeReg(insn) === 0;
}

on(0, range(0x88, 0x8b), movRmReg);
on(0, range(0xa0, 0xa3), movMoffs);
on(0, range(0xb0, 0xbf), movRegImm);
on(0, [0xc6, 0xc7], movRmImm);
on(1, [0xb6, 0xb7, 0xbe, 0xbf], movExtend);
on(0, 0x63, movsxd);
on(0, 0x8d, lea);
on(0, [0x86, 0x87], xchgRm);
lockable(0, [0x86, 0x87]);
on(0, range(0x90, 0x97), xchgAcc);
on(1, range(0x40, 0x4f), cmov);
on(1, range(0x90, 0x9f), setcc);
on(1, range(0xc8, 0xcf), bswap);
on(2, [0xf0, 0xf1], movbe);
on(0, 0x98, convertAcc);
on(0, 0x99, convertAccWide);
on(0, 0xd7, xlat);
on(1, HINT_NOPS, nop);
