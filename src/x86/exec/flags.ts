/**
 * Flag helpers: parity, sign/zero/parity of a result, and the condition codes (Jcc/SETcc/CMOVcc)
 * on an RFLAGS value. ALU results record their flags lazily (lazy-flags.ts); ctx.flags is always
 * the exact architectural value.
 */
import { AF as AF_, CF as CF_, OF as OF_, PF as PF_, SF as SF_, ZF as ZF_ } from './context.js';

// Module-local copies of imported numbers: V8 folds a module's own constants into the code,
// but loads and hole-checks an imported binding at every use (measurably slower in hot paths).
const AF = AF_, CF = CF_, OF = OF_, PF = PF_, SF = SF_, ZF = ZF_;

/** PF for each low byte: set when the byte has an even number of 1 bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = n & 1 ? 0 : PF;
}

/** SF, ZF and PF of a result of the given size: lo = low 32 bits, hi = high half (size 8 only). */
export function szp(lo: number, hi: number, size: number): number {
  let f = PARITY[lo & 0xff];
  if (size === 8) {
    if ((lo | hi) === 0) f |= ZF;
    if (hi < 0) f |= SF;
    return f;
  }
  const m = size === 4 ? lo : lo & (size === 1 ? 0xff : 0xffff);
  if (m === 0) f |= ZF;
  if (m & (size === 1 ? 0x80 : size === 2 ? 0x8000 : 0x80000000)) f |= SF;
  return f;
}

/**
 * Evaluates condition cc (0..15, the low nibble of Jcc/SETcc/CMOVcc) on flags.
 * O NO B AE E NE BE A S NS P NP L GE LE G.
 */
export function condition(flags: number, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (flags & OF) !== 0; break;
    case 1: r = (flags & CF) !== 0; break;
    case 2: r = (flags & ZF) !== 0; break;
    case 3: r = (flags & (CF | ZF)) !== 0; break;
    case 4: r = (flags & SF) !== 0; break;
    case 5: r = (flags & PF) !== 0; break;
    case 6: r = ((flags & SF) !== 0) !== ((flags & OF) !== 0); break;
    default: r = (flags & ZF) !== 0 || (((flags & SF) !== 0) !== ((flags & OF) !== 0)); break;
  }
  return (cc & 1) === 0 ? r : !r;
}

export { AF, CF, OF, PF, SF, ZF };
