/**
 * CRC32 (F2 0F 38 F0/F1): accumulates the CRC-32C (Castagnoli, reflected polynomial 0x82F63B78)
 * of the source into the 32-bit destination, with no initial or final inversion. Flags unchanged.
 * Shares its opcodes with MOVBE (no F2), whose handler dispatches here.
 */
import type { Instruction } from '../instruction.js';
import type { ExecContext } from './context.js';
import { advance } from './address.js';
import { regRead, regWrite, rmAddress, rmRead } from './operands.js';
import { half } from './regs.js';

const TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c;
}

function update(crc: number, v: number, bytes: number): number {
  for (let i = 0; i < bytes; i++) {
    crc = TABLE[(crc ^ v) & 0xff] ^ (crc >>> 8);
    v >>>= 8;
  }
  return crc;
}

export function crc32(ctx: ExecContext, insn: Instruction): boolean {
  const wide = (insn.rex & 8) !== 0;
  const srcSize = insn.opcode === 0xf0 ? 1 : wide ? 8 : insn.opsizePrefix ? 2 : 4;
  const v = rmRead(ctx, insn, srcSize, rmAddress(ctx, insn)), vh = half.hi;
  let crc = regRead(ctx, insn, 4);
  crc = update(crc, v, Math.min(srcSize, 4));
  if (srcSize === 8) crc = update(crc, vh, 4);
  regWrite(ctx, insn, wide ? 8 : 4, crc, 0);
  advance(ctx, insn);
  return true;
}
