/**
 * Memory operands of the x87 instructions: byte images read and written through the soft CPU's
 * segmentation and paging, with writes checked at both ends first so a fault leaves memory as it
 * was (the instruction restarts), and the memory formats as values.
 */
import type { Instruction } from '../../x86/instruction.js';
import { type Ext } from '../../x86/x87/ext80.js';
import { fromInt, fromIeee, DOUBLE, SINGLE } from '../../x86/x87/convert.js';
import { DE, makeEnv } from '../../x86/x87/round.js';
import type { MemOperand } from './x87-ops.js';
import type { SoftCpu } from './cpu.js';
import { memAddress } from './system-common.js';

export function readBytes(cpu: SoftCpu, insn: Instruction, n: number): Uint8Array {
  const a = memAddress(cpu, insn), seg = insn.mem!.seg;
  const b = new Uint8Array(n);
  // Both ends first: a fault on either page is raised before anything else is read.
  if (n > 1) cpu.read(seg, a + n - 1, 1);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const v = cpu.read(seg, a + k, 4);
    b[k] = v; b[k + 1] = v >>> 8; b[k + 2] = v >>> 16; b[k + 3] = v >>> 24;
  }
  for (; k < n; k++) b[k] = cpu.read(seg, a + k, 1);
  return b;
}

export function writeBytes(cpu: SoftCpu, insn: Instruction, b: Uint8Array): void {
  const a = memAddress(cpu, insn), seg = insn.mem!.seg, n = b.length;
  cpu.write(seg, a + n - 1, 1, b[n - 1]!, 0);
  cpu.write(seg, a, 1, b[0]!, 0);
  let k = 0;
  for (; k + 4 <= n; k += 4) cpu.write(seg, a + k, 4, b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24), 0);
  for (; k < n; k++) cpu.write(seg, a + k, 1, b[k]!, 0);
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
export function readOperand(cpu: SoftCpu, insn: Instruction, fmt: MemFormat): MemOperand {
  const bits = bytesToBig(readBytes(cpu, insn, FORMAT_BYTES[fmt]));
  const env = makeEnv(0x37f);
  let value: Ext;
  switch (fmt) {
    case MemFormat.Single: value = fromIeee(env, bits, SINGLE); break;
    case MemFormat.Double: value = fromIeee(env, bits, DOUBLE); break;
    default: value = fromInt(BigInt.asIntN(8 * FORMAT_BYTES[fmt], bits));
  }
  return { value, denormal: (env.flags & DE) !== 0 };
}
