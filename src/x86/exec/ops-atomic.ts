/**
 * Compare-and-exchange and exchange-add: CMPXCHG (0F B0/B1), XADD (0F C0/C1),
 * CMPXCHG8B/CMPXCHG16B (0F C7 /1). As on hardware, a memory CMPXCHG always writes its
 * destination (the old value back when the comparison fails).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { X86Fault, ZF } from './context.js';
import { advance, effectiveAddress } from './address.js';
import { add, sub } from './alu.js';
import { commitRm } from './commit.js';
import { memRead, regRead, regWrite, requireMemory, rmAddress, rmRead } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { lockable, on } from './table.js';
import { cmpxchgFailWritesDest } from './undefined-flags.js';

/** 0F B0/B1 CMPXCHG r/m, reg: compare rAX with the destination. */
function cmpxchg(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const addr = rmAddress(ctx, insn);
  const d = rmRead(ctx, insn, size, addr), dh = half.hi;
  const a = readGpr(ctx, 0, size, 0), ah = half.hi;
  const s = regRead(ctx, insn, size), sh = half.hi;
  const before = ctx.flags;
  sub(ctx, size, a, ah, d, dh, 0);
  if (ctx.flags & ZF) {
    commitRm(ctx, insn, size, addr, s, sh, before);
  } else {
    if (insn.mod !== 3 || cmpxchgFailWritesDest(size)) commitRm(ctx, insn, size, addr, d, dh, before);
    writeGpr(ctx, 0, size, 0, d, dh);
  }
  advance(ctx, insn);
  return true;
}

/** 0F C0/C1 XADD r/m, reg: reg = old destination, destination = sum. */
function xadd(ctx: ExecContext, insn: Instruction): boolean {
  const size = insn.opSize;
  const addr = rmAddress(ctx, insn);
  const d = rmRead(ctx, insn, size, addr), dh = half.hi;
  const s = regRead(ctx, insn, size), sh = half.hi;
  const before = ctx.flags;
  const r = add(ctx, size, d, dh, s, sh, 0), rh = half.hi;
  if (insn.mod !== 3) commitRm(ctx, insn, size, addr, r, rh, before);
  regWrite(ctx, insn, size, d, dh);
  if (insn.mod === 3) commitRm(ctx, insn, size, addr, r, rh, before);
  advance(ctx, insn);
  return true;
}

/** 0F C7 /1 CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W; 16-byte alignment or #GP(0)). */
function cmpxchgWide(ctx: ExecContext, insn: Instruction): boolean {
  if ((insn.reg & 7) !== 1) return false;
  requireMemory(insn);
  const seg = insn.mem!.seg;
  const addr = effectiveAddress(ctx, insn);
  const r = ctx.regs;
  if ((insn.rex & 8) !== 0) {
    if (addr % 16 !== 0) throw new X86Fault(13, 0, `cmpxchg16b: unaligned address ${addr.toString(16)}`);
    const lo = memRead(ctx, seg, addr, 8), loh = half.hi;
    const hi = memRead(ctx, seg, addr + 8, 8), hih = half.hi;
    const equal = lo === r[0] && loh === r[1] && hi === r[4] && hih === r[5];
    if (equal) {
      ctx.write(seg, addr, 8, r[6], r[7]);
      ctx.write(seg, addr + 8, 8, r[2], r[3]);
    } else {
      ctx.write(seg, addr, 8, lo, loh);
      ctx.write(seg, addr + 8, 8, hi, hih);
      r[0] = lo; r[1] = loh; r[4] = hi; r[5] = hih;
    }
    ctx.flags = (ctx.flags & ~ZF) | (equal ? ZF : 0);
  } else {
    // One 8-byte read (faults as two 4-byte ones would): a locked run compares-and-swaps what it read.
    const lo = memRead(ctx, seg, addr, 8), hi = half.hi;
    const equal = lo === r[0] && hi === r[4];
    if (equal) {
      ctx.write(seg, addr, 8, r[6], r[2]);
    } else {
      ctx.write(seg, addr, 8, lo, hi);
      writeGpr(ctx, 0, 4, 0, lo, 0);
      writeGpr(ctx, 2, 4, 0, hi, 0);
    }
    ctx.flags = (ctx.flags & ~ZF) | (equal ? ZF : 0);
  }
  advance(ctx, insn);
  return true;
}

on(1, [0xb0, 0xb1], cmpxchg);
lockable(1, [0xb0, 0xb1, 0xc0, 0xc1]);
on(1, [0xc0, 0xc1], xadd);
on(1, 0xc7, cmpxchgWide);
lockable(1, [0xc7], 0x02);
