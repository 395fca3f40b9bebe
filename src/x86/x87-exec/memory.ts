/**
 * Memory operands of the x87 instructions: byte images read and written through the context,
 * and the memory formats as values. An operand of 1, 2, 4 or 8 bytes is one access (the
 * context checks both pages of a crossing access before moving a byte). A wider one (m80, BCD,
 * environment and save images) goes through the context's block access when it has one (the
 * assists: see src/x86/exec/block-access.ts); otherwise both ends are checked first (so a fault
 * leaves memory as it was and the instruction restarts), then it moves in 4-byte pieces.
 */
import { X86Fault } from '../exec/context.js';
import { effectiveAddress } from '../exec/address.js';
import type { Instruction } from '../instruction.js';
import { type Ext } from '../x87/ext80.js';
import { fromInt, fromIeee, DOUBLE, SINGLE } from '../x87/convert.js';
import { DE, makeEnv } from '../x87/round.js';
import type { X87Context } from './context.js';
import type { MemOperand } from './ops.js';

/** The memory operand's effective address (#UD for a register form). */
export function memAddress(ctx: X87Context, insn: Instruction): number {
  if (insn.mod === 3 || insn.mem === null) throw new X86Fault(6, undefined, `${insn.mnemonic}: needs a memory operand`);
  return effectiveAddress(ctx, insn);
}

export function readBytes(ctx: X87Context, insn: Instruction, n: number): Uint8Array {
  const a = memAddress(ctx, insn), seg = insn.mem!.seg;
  const b = new Uint8Array(n);
  switch (n) {
    case 2: {
      const v = ctx.read(seg, a, 2);
      b[0] = v; b[1] = v >>> 8;
      return b;
    }
    case 4: case 8: {
      const lo = ctx.read(seg, a, n);
      b[0] = lo; b[1] = lo >>> 8; b[2] = lo >>> 16; b[3] = lo >>> 24;
      if (n === 8) { const hi = ctx.memHi; b[4] = hi; b[5] = hi >>> 8; b[6] = hi >>> 16; b[7] = hi >>> 24; }
      return b;
    }
    default:
  }
  if (ctx.readBlock !== undefined) {
    ctx.readBlock(seg, a, b);
    return b;
  }
  // Both ends first: a fault on either page is raised before anything else is read.
  ctx.read(seg, a + n - 1, 1);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const v = ctx.read(seg, a + k, 4);
    b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
  }
  for (; k < n; k++) b[k] = ctx.read(seg, a + k, 1);
  return b;
}

const word = (b: Uint8Array, k: number): number => b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24);

export function writeBytes(ctx: X87Context, insn: Instruction, b: Uint8Array): void {
  const a = memAddress(ctx, insn), seg = insn.mem!.seg, n = b.length;
  switch (n) {
    case 2: ctx.write(seg, a, 2, b[0]! | (b[1]! << 8), 0); return;
    case 4: ctx.write(seg, a, 4, word(b, 0), 0); return;
    case 8: ctx.write(seg, a, 8, word(b, 0), word(b, 4)); return;
    default:
  }
  if (ctx.writeBlock !== undefined) {
    ctx.writeBlock(seg, a, b);
    return;
  }
  ctx.write(seg, a + n - 1, 1, b[n - 1]!, 0);
  ctx.write(seg, a, 1, b[0]!, 0);
  let k = 0;
  for (; k + 4 <= n; k += 4) ctx.write(seg, a + k, 4, word(b, k), 0);
  for (; k < n; k++) ctx.write(seg, a + k, 1, b[k]!, 0);
}

export function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
  return v;
}

export function bigToBytes(v: bigint, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = BigInt.asUintN(8 * n, v);
  for (let k = 0; k < n; k++) { b[k] = Number(x & 0xffn); x >>= 8n; }
  return b;
}

/** Memory operand formats of the arithmetic and load forms. */
export const enum MemFormat { Single, Double, Int16, Int32, Int64 }
export const FORMAT_BYTES = [4, 8, 2, 4, 8] as const;

/** Reads a memory operand as a register-format value, noting a denormal single/double. */
export function readOperand(ctx: X87Context, insn: Instruction, fmt: MemFormat): MemOperand {
  const bits = bytesToBig(readBytes(ctx, insn, FORMAT_BYTES[fmt]));
  const env = makeEnv(0x37f);
  let value: Ext;
  switch (fmt) {
    case MemFormat.Single: value = fromIeee(env, bits, SINGLE); break;
    case MemFormat.Double: value = fromIeee(env, bits, DOUBLE); break;
    default: value = fromInt(BigInt.asIntN(8 * FORMAT_BYTES[fmt], bits));
  }
  return { value, denormal: (env.flags & DE) !== 0 };
}
