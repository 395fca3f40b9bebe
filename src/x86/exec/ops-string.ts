/**
 * String instructions MOVS CMPS STOS LODS SCAS (A4-AF) with REP/REPE/REPNE, DF and the address
 * size for rSI/rDI/rCX. INS/OUTS are port I/O: the runner's (assistIo / the soft CPU).
 *
 * One call may run the whole REP loop, but each iteration commits rCX/rSI/rDI (and flags) after
 * its memory accesses, so an access that throws mid-loop leaves the state of a hardware
 * interruption between iterations. RIP advances only when the loop is done; ctx.repBudget
 * bounds the iterations and is consumed by them (when it runs out, RIP stays on the instruction).
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { DF, ZF } from './context.js';
import { advance } from './address.js';
import { sub } from './alu.js';
import { counterIsZero, decrementCounter } from './ops-control.js';
import { dataSegment } from './operands.js';
import { half, readGpr, writeGpr } from './regs.js';
import { on, range } from './table.js';

const TWO32 = 4294967296;
const RCX = 1, RSI = 6, RDI = 7, SEG_ES = 0;

/** Register n as an address of the given address size. */
function indexAddress(ctx: ExecContext, n: number, addrSize: number): number {
  const r = ctx.regs;
  if (addrSize === 8) return r[(n << 1) + 1] * TWO32 + (r[n << 1] >>> 0);
  return addrSize === 4 ? r[n << 1] >>> 0 : r[n << 1] & 0xffff;
}

/** Adds delta (+-size) to register n at the address size. */
function stepIndex(ctx: ExecContext, n: number, addrSize: number, delta: number): void {
  const r = ctx.regs, i = n << 1;
  if (addrSize === 8) {
    const l = (r[i] >>> 0) + delta;
    if (l > 0xffffffff) r[i + 1] = (r[i + 1] + 1) | 0;
    else if (l < 0) r[i + 1] = (r[i + 1] - 1) | 0;
    r[i] = l | 0;
  } else if (addrSize === 4) {
    r[i] = (r[i] + delta) | 0;
    r[i + 1] = 0;
  } else {
    r[i] = (r[i] & ~0xffff) | ((r[i] + delta) & 0xffff);
  }
}

const MOVS = 0, CMPS = 1, STOS = 3, LODS = 4, SCAS = 5;

/** Whether REP MOVS/STOS may use ctx.bulkView (tests compare with one element at a time). */
let bulkAllowed = true;

/** Sets bulkAllowed (tests run the same guest both ways). */
export function setBulkStrings(on: boolean): void {
  bulkAllowed = on;
}

/** rCX as an unsigned count at the address size (4 or 8). */
function counterValue(ctx: ExecContext, addrSize: number): number {
  const r = ctx.regs;
  return addrSize === 8 ? (r[3]! >>> 0) * TWO32 + (r[2]! >>> 0) : r[2]! >>> 0;
}

/**
 * Up to limit forward iterations of REP MOVS or REP STOS at once, within one page of each
 * operand, through ctx.bulkView (32/64-bit addresses: no wrap inside a page); the registers move
 * as after that many iterations. Returns how many ran: 0 when a view is refused, an element
 * crosses a page, or a MOVS destination starts inside its source (where copying one element at
 * a time repeats a pattern), and the caller runs one iteration the checking way.
 */
function bulkIterations(ctx: ExecContext, kind: number, size: number, as: number, srcSeg: number, limit: number): number {
  const dst = ctx.bulkView!(SEG_ES, indexAddress(ctx, RDI, as), limit * size, true);
  if (dst === undefined) return 0;
  let n = Math.floor(dst.length / size);
  if (kind === MOVS) {
    const src = n === 0 ? undefined : ctx.bulkView!(srcSeg, indexAddress(ctx, RSI, as), n * size, false);
    if (src === undefined) return 0;
    n = Math.min(n, Math.floor(src.length / size));
    const bytes = n * size;
    if (n === 0 || (src.buffer === dst.buffer && dst.byteOffset > src.byteOffset && dst.byteOffset < src.byteOffset + bytes)) return 0;
    dst.set(src.subarray(0, bytes));
    stepIndex(ctx, RSI, as, bytes);
  } else {
    if (n === 0) return 0;
    const lo = readGpr(ctx, 0, size, 0), hi = half.hi;
    for (let b = 0; b < size; b++) dst[b] = (b < 4 ? lo >>> (8 * b) : hi >>> (8 * (b - 4))) & 0xff;
    for (let done = size; done < n * size; done *= 2) dst.copyWithin(done, 0, Math.min(done, n * size - done));
  }
  stepIndex(ctx, RDI, as, n * size);
  stepIndex(ctx, RCX, as, -n);
  return n;
}

/** One iteration of the string operation; returns false if REPE/REPNE should stop after it. */
function iteration(ctx: ExecContext, insn: Instruction, kind: number, size: number, delta: number, srcSeg: number): void {
  const as = insn.addrSize;
  switch (kind) {
    case MOVS: {
      const v = ctx.read(srcSeg, indexAddress(ctx, RSI, as), size as 1 | 2 | 4 | 8), vh = size === 8 ? ctx.memHi : 0;
      ctx.write(SEG_ES, indexAddress(ctx, RDI, as), size as 1 | 2 | 4 | 8, v, vh);
      stepIndex(ctx, RSI, as, delta);
      stepIndex(ctx, RDI, as, delta);
      return;
    }
    case CMPS: {
      const a = ctx.read(srcSeg, indexAddress(ctx, RSI, as), size as 1 | 2 | 4 | 8), ah = size === 8 ? ctx.memHi : 0;
      const b = ctx.read(SEG_ES, indexAddress(ctx, RDI, as), size as 1 | 2 | 4 | 8), bh = size === 8 ? ctx.memHi : 0;
      sub(ctx, size, a, ah, b, bh, 0);
      stepIndex(ctx, RSI, as, delta);
      stepIndex(ctx, RDI, as, delta);
      return;
    }
    case STOS: {
      const v = readGpr(ctx, 0, size, 0), vh = half.hi;
      ctx.write(SEG_ES, indexAddress(ctx, RDI, as), size as 1 | 2 | 4 | 8, v, vh);
      stepIndex(ctx, RDI, as, delta);
      return;
    }
    case LODS: {
      const v = ctx.read(srcSeg, indexAddress(ctx, RSI, as), size as 1 | 2 | 4 | 8), vh = size === 8 ? ctx.memHi : 0;
      writeGpr(ctx, 0, size, 0, v, vh);
      stepIndex(ctx, RSI, as, delta);
      return;
    }
    default: { // SCAS
      const b = ctx.read(SEG_ES, indexAddress(ctx, RDI, as), size as 1 | 2 | 4 | 8), bh = size === 8 ? ctx.memHi : 0;
      const a = readGpr(ctx, 0, size, 0), ah = half.hi;
      sub(ctx, size, a, ah, b, bh, 0);
      stepIndex(ctx, RDI, as, delta);
    }
  }
}

function stringOp(ctx: ExecContext, insn: Instruction): boolean {
  const kind = (insn.opcode - 0xa4) >> 1;
  const size = insn.opSize;
  const delta = ctx.flags & DF ? -size : size;
  const srcSeg = dataSegment(ctx, insn);
  if (insn.rep === 0) {
    iteration(ctx, insn, kind, size, delta, srcSeg);
    advance(ctx, insn);
    return true;
  }
  const as = insn.addrSize;
  // REPE/REPNE only terminate early for CMPS and SCAS; for the others F2 acts as REP.
  const conditional = kind === CMPS || kind === SCAS;
  const wantZf = insn.rep === 0xf3;
  const bounded = ctx.repBudget !== undefined;
  let budget = bounded ? ctx.repBudget! : Infinity;
  let finished = false;
  const bulk = bulkAllowed && (kind === MOVS || kind === STOS) && delta > 0 && as !== 2 && ctx.bulkView !== undefined;
  for (;;) {
    if (counterIsZero(ctx, as)) { finished = true; break; }
    if (budget <= 0) break; // resume later: RIP stays on the instruction
    if (bulk) {
      const n = bulkIterations(ctx, kind, size, as, srcSeg, Math.min(budget, counterValue(ctx, as)));
      if (n !== 0) { budget -= n; continue; }
    }
    budget--;
    iteration(ctx, insn, kind, size, delta, srcSeg);
    decrementCounter(ctx, as);
    if (conditional && ((ctx.flags & ZF) !== 0) !== wantZf) { finished = true; break; }
  }
  if (bounded) ctx.repBudget = budget;
  if (finished) advance(ctx, insn);
  return true;
}

on(0, [...range(0xa4, 0xa7), ...range(0xaa, 0xaf)], stringOp);
