/** MXCSR bits (Intel SDM Vol. 1, 10.2.3). Exception flags are bits 0..5; their masks are the same bits << 7. */
export const IE = 1 << 0, DE = 1 << 1, ZE = 1 << 2, OE = 1 << 3, UE = 1 << 4, PE = 1 << 5;
/** The six exception flag bits. */
export const EXCEPTION_FLAGS = 0x3f;
/** Flags detected before the arithmetic (operands alone decide them) and after it (the rounded result does). */
export const PRE_COMPUTATION = IE | DE | ZE;
export const POST_COMPUTATION = OE | UE | PE;
export const DAZ = 1 << 6;
export const MASK_SHIFT = 7;
export const RC_SHIFT = 13;
export const FTZ = 1 << 15;

/** Rounding control values (MXCSR.RC and ROUNDPS imm8[1:0]). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
export type RoundingControl = 0 | 1 | 2 | 3;

/** MXCSR.RC. */
export function roundingControl(mxcsr: number): RoundingControl {
  return ((mxcsr >>> RC_SHIFT) & 3) as RoundingControl;
}

/** The exception flags whose mask bit is clear: raising one of these faults (#XM). */
export function unmaskedExceptions(mxcsr: number): number {
  return ~(mxcsr >>> MASK_SHIFT) & EXCEPTION_FLAGS;
}
