/**
 * Ordered and unordered comparison (FCOM/FUCOM/FCOMI/FUCOMI/FTST/FICOM) and classification
 * (FXAM) of register-format values.
 */
import { Cls, classify, type Ext, isDenormal80, isNaN80 } from './ext80.js';
import { DE, type FpEnv, IE } from './round.js';

/** Comparison outcomes, in the order of their C3:C2:C0 (ZF:PF:CF) encodings below. */
export const GT = 0, LT = 1, EQ = 2, UNORDERED = 3;
/** C3, C2, C0 (as FSW bits 14, 10, 8) for each outcome. */
export const COMPARE_FSW = [0, 0x0100, 0x4000, 0x4500] as const;
/** ZF, PF, CF (as RFLAGS bits 6, 2, 0) for each outcome. */
export const COMPARE_EFLAGS = [0, 0x01, 0x40, 0x45] as const;

/** Magnitude key: orders every supported value by absolute value (pseudo-denormals as exponent 1). */
function magnitude(x: Ext): bigint {
  return (BigInt(x.exp === 0 ? 1 : x.exp) << 64n) | x.sig;
}

/**
 * a compared with b. ordered: any NaN operand is invalid (FCOM family); else only SNaNs are
 * (FUCOM family).
 */
export function compare(env: FpEnv, a: Ext, b: Ext, ordered: boolean): number {
  const ca = classify(a), cb = classify(b);
  if (ca === Cls.Unsupported || cb === Cls.Unsupported) { env.flags |= IE; return UNORDERED; }
  if (isNaN80(ca) || isNaN80(cb)) {
    if (ordered || ca === Cls.SNaN || cb === Cls.SNaN) env.flags |= IE;
    return UNORDERED;
  }
  if (isDenormal80(ca) || isDenormal80(cb)) env.flags |= DE;
  const za = ca === Cls.Zero, zb = cb === Cls.Zero;
  if (za && zb) return EQ;
  if (a.sign !== b.sign) {
    if (za) return b.sign ? GT : LT;
    if (zb) return a.sign ? LT : GT;
    return a.sign ? LT : GT;
  }
  const ma = za ? 0n : magnitude(a), mb = zb ? 0n : magnitude(b);
  if (ma === mb) return EQ;
  return (ma > mb) !== (a.sign === 1) ? GT : LT;
}

/** FXAM's C3:C2:C0 for a non-empty register (C1 is the sign), as FSW bits. */
export function examine(x: Ext): number {
  switch (classify(x)) {
    case Cls.Unsupported: return 0;
    case Cls.QNaN: case Cls.SNaN: return 0x0100;
    case Cls.Normal: return 0x0400;
    case Cls.Inf: return 0x0500;
    case Cls.Zero: return 0x4000;
    default: return 0x4400; // denormal, pseudo-denormal
  }
}
/** FXAM of an empty register: C3 and C0 set. */
export const EXAMINE_EMPTY = 0x4100;
