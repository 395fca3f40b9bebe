/**
 * ModRM/SIB memory-operand decoding: the 16-bit forms ([bx+si], [bp+di+disp8], ...) and the
 * 32/64-bit forms (SIB, disp8/disp32, RIP-relative in 64-bit mode), with the effective segment.
 */
import type { CodeMode, MemoryOperand } from '../instruction.js';
import { REG_NONE, REG_RIP, SEG_DS, SEG_SS } from '../instruction.js';
import type { ByteCursor } from './cursor.js';

const BX = 3, BP = 5, SI = 6, DI = 7, SP = 4;
/** 16-bit addressing: base and index for rm 0..7 ([bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx]). */
const BASE16 = [BX, BX, BP, BP, SI, DI, BP, BX];
const INDEX16 = [SI, DI, SI, DI, REG_NONE, REG_NONE, REG_NONE, REG_NONE];
const SCALES: readonly (1 | 2 | 4 | 8)[] = [1, 2, 4, 8];

/**
 * Decodes the memory operand of ModRM byte `modrm` (mod != 3), reading SIB and displacement.
 * segOverride: the override in effect (in 64-bit mode only FS/GS ever are), or -1.
 */
export function decodeMemoryOperand(
  c: ByteCursor, modrm: number, addrSize: 2 | 4 | 8, mode: CodeMode, rex: number, segOverride: number,
): MemoryOperand {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let base: number;
  let index = REG_NONE;
  let scale: 1 | 2 | 4 | 8 = 1;
  let disp = 0;
  if (addrSize === 2) {
    base = BASE16[rm];
    index = INDEX16[rm];
    if (mod === 0 && rm === 6) {
      base = REG_NONE;
      disp = c.i16();
    } else if (mod === 1) disp = c.i8();
    else if (mod === 2) disp = c.i16();
  } else {
    if (rm === 4) {
      const sib = c.u8();
      const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
      // Index 100b without REX.X means no index; its scale is then meaningless and reported as 1.
      if (idx !== SP) {
        index = idx;
        scale = SCALES[sib >> 6];
      }
      const b = sib & 7;
      if (b === 5 && mod === 0) {
        base = REG_NONE;
        disp = c.i32();
      } else base = b | ((rex & 1) << 3);
    } else if (rm === 5 && mod === 0) {
      base = mode === 64 ? REG_RIP : REG_NONE;
      disp = c.i32();
    } else base = rm | ((rex & 1) << 3);
    if (mod === 1) disp = c.i8();
    else if (mod === 2) disp = c.i32();
  }
  const seg = segOverride >= 0 ? segOverride : base === BP || base === SP ? SEG_SS : SEG_DS;
  return { seg, base, index, scale, disp };
}
