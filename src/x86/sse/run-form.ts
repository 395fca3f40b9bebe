/**
 * Runs one SSE/MMX form (form.ts) over a VectorContext: availability checks, the memory
 * operand (alignment #GP(0) before any access), operand loads, the op, then the commits in an
 * order that leaves the state untouched when an access faults: memory store first, then the
 * x87 -> MMX transition, then the register destination, then RIP.
 */
import { X86Fault } from '../exec/context.js';
import { advance, effectiveAddress } from '../exec/address.js';
import { readGpr, writeGpr } from '../exec/regs.js';
import type { Instruction } from '../instruction.js';
import { checkAvailable, enterMmx, mmxSlot, Uses, writeMmx } from './context.js';
import type { VectorContext } from './context.js';
import { Method } from './form.js';
import type { Form, Loc, OpEnv } from './form.js';
import { copyBytes, copyLanes, Vec } from './vec.js';

const D = new Vec(), S = new Vec(), T = new Vec();
const ENV: OpEnv = { ctx: undefined as unknown as VectorContext, insn: undefined as unknown as Instruction, opcode: 0, imm: 0, n: 16, mem: false, wide: false, t: T };

function sizeOf(loc: Loc, insn: Instruction): number {
  return loc.size < 0 ? (insn.rex & 8 ? 8 : 4) : loc.size;
}

/** Reads size bytes at seg:addr into v (the rest of v zeroed). */
export function readMem(ctx: VectorContext, seg: number, addr: number, size: number, v: Vec): void {
  v.zero();
  const w = v.i32;
  switch (size) {
    case 1: v.u8[0] = ctx.read(seg, addr, 1); return;
    case 2: v.u16[0] = ctx.read(seg, addr, 2); return;
    case 4: w[0] = ctx.read(seg, addr, 4); return;
    case 8: w[0] = ctx.read(seg, addr, 8); w[1] = ctx.memHi; return;
    default:
      if (ctx.readBlock !== undefined) { ctx.readBlock(seg, addr, v.u8); return; }
      w[0] = ctx.read(seg, addr, 8); w[1] = ctx.memHi;
      w[2] = ctx.read(seg, addr + 8, 8); w[3] = ctx.memHi;
  }
}

/**
 * Writes v's low size bytes at seg:addr; a 16-byte store goes through the context's writeBlock,
 * or else writes its high half first (see below).
 */
export function writeMem(ctx: VectorContext, seg: number, addr: number, size: number, v: Vec): void {
  const w = v.i32;
  switch (size) {
    case 1: ctx.write(seg, addr, 1, v.u8[0]!, 0); return;
    case 2: ctx.write(seg, addr, 2, v.u16[0]!, 0); return;
    case 4: ctx.write(seg, addr, 4, w[0]!, 0); return;
    case 8: ctx.write(seg, addr, 8, w[0]!, w[1]!); return;
    default:
      if (ctx.writeBlock !== undefined) { ctx.writeBlock(seg, addr, v.u8); return; }
      // Two 8-byte accesses; high first, so a store crossing into an unmapped page at an
      // 8-byte boundary faults before anything is written (an unaligned crossing may still
      // leave its high half written, which a restarted store rewrites with the same bytes).
      ctx.write(seg, addr + 8, 8, w[2]!, w[3]!);
      ctx.write(seg, addr, 8, w[0]!, w[1]!);
  }
}

function loadReg(ctx: VectorContext, insn: Instruction, loc: Loc, n: number, v: Vec): void {
  switch (loc.method) {
    case Method.V: case Method.U: case Method.W: {
      const x32 = ctx.xmm32;
      if (x32 !== undefined) copyLanes(v.i32, x32[n]!);
      else v.u8.set(ctx.xmm[n]!);
      return;
    }
    case Method.P: case Method.N: case Method.Q: {
      v.zero();
      copyBytes(v.u8, mmxSlot(ctx, n & 7), 8);
      return;
    }
    case Method.G: case Method.E: {
      v.zero();
      const size = sizeOf(loc, insn) === 8 ? 8 : 4;
      v.i32[0] = readGpr(ctx, n, size, insn.rex);
      if (size === 8) v.i32[1] = ctx.regs[(n << 1) + 1]!;
      return;
    }
    default: v.zero();
  }
}

function storeReg(ctx: VectorContext, insn: Instruction, loc: Loc, n: number, v: Vec): void {
  switch (loc.method) {
    case Method.V: case Method.U: case Method.W: {
      const x32 = ctx.xmm32;
      if (x32 !== undefined) copyLanes(x32[n]!, v.i32);
      else ctx.xmm[n]!.set(v.u8);
      return;
    }
    case Method.P: case Method.N: case Method.Q: writeMmx(ctx, n & 7, v.u8); return;
    case Method.G: case Method.E: {
      const size = sizeOf(loc, insn) === 8 ? 8 : 4;
      writeGpr(ctx, n, size, insn.rex, v.i32[0]!, size === 8 ? v.i32[1]! : 0);
      return;
    }
    default:
  }
}

/** The linear address for the alignment check (segment base added where the mode adds it). */
function linearForAlignment(ctx: VectorContext, seg: number, ea: number): number {
  const base = ctx.segBase?.[seg] ?? 0;
  return ctx.mode === 64 ? (seg >= 4 ? ea + base : ea) : ea + base;
}

export function runForm(ctx: VectorContext, insn: Instruction, form: Form): void {
  checkAvailable(ctx, form.uses, form.name);
  const mem = insn.mod !== 3;
  let addr = 0, seg = 0, memSize = 0;
  if (mem) {
    const loc = form.rmOperand === 0 ? form.dst : form.src;
    memSize = sizeOf(loc, insn);
    seg = insn.mem!.seg;
    addr = effectiveAddress(ctx, insn);
    // The low bits by int32 arithmetic (exact for any integral address): a double % here compiled
    // to a call of the C library's fmod.
    if (form.aligned && memSize === 16 && (linearForAlignment(ctx, seg, addr) & 15) !== 0) {
      throw new X86Fault(13, 0, `${form.name}: memory operand 0x${addr.toString(16)} is not 16-byte aligned`);
    }
  }
  const rmIsDst = form.rmOperand === 0;
  // Source: memory or register. Destination: its register value (memory destinations are never read).
  if (mem && !rmIsDst) readMem(ctx, seg, addr, memSize, S);
  else loadReg(ctx, insn, form.src, rmIsDst ? insn.reg : insn.rm, S);
  if (mem && rmIsDst) D.zero();
  else loadReg(ctx, insn, form.dst, rmIsDst ? insn.rm : insn.reg, D);

  const env = ENV;
  // The context rarely changes: storing it only then spares a write barrier per run.
  if (env.ctx !== ctx) env.ctx = ctx;
  if (!form.writeDst) env.insn = insn;
  env.opcode = insn.opcode; env.imm = insn.imm & 0xff; env.n = form.n; env.mem = mem; env.wide = (insn.rex & 8) !== 0;
  form.op(D, S, env);

  if (form.writeDst && mem && rmIsDst) writeMem(ctx, seg, addr, memSize, D);
  if (form.uses & Uses.Mmx) enterMmx(ctx);
  if (form.writeDst && !(mem && rmIsDst)) storeReg(ctx, insn, form.dst, rmIsDst ? insn.rm : insn.reg, D);
  advance(ctx, insn);
}
