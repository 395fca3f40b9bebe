/**
 * The state one instruction's lanes share: the MXCSR controls they read and the exception flags
 * they raise, kept apart as pre-computation (IE, DE, ZE: decided by the operands) and
 * post-computation (OE, UE, PE: decided by the rounded result) because hardware reports them
 * differently when one is unmasked (see raised()).
 */
import { DAZ, FTZ, MASK_SHIFT, OE, POST_COMPUTATION, PRE_COMPUTATION, UE, roundingControl, unmaskedExceptions, type RoundingControl } from './mxcsr.js';

export class FpContext {
  pre = 0;
  post = 0;
  readonly daz: boolean;
  readonly ftz: boolean;
  readonly rc: RoundingControl;
  readonly underflowMasked: boolean;
  readonly overflowMasked: boolean;

  constructor(readonly mxcsr: number) {
    this.daz = (mxcsr & DAZ) !== 0;
    this.ftz = (mxcsr & FTZ) !== 0;
    this.rc = roundingControl(mxcsr);
    this.underflowMasked = ((mxcsr >>> MASK_SHIFT) & UE) !== 0;
    this.overflowMasked = ((mxcsr >>> MASK_SHIFT) & OE) !== 0;
  }

  /** Adds flags raised by one operation, sorted into pre/post by kind. */
  raise(flags: number): void {
    this.pre |= flags & PRE_COMPUTATION;
    this.post |= flags & POST_COMPUTATION;
  }

  /**
   * The flags the instruction sets in MXCSR. When any lane raised an unmasked pre-computation
   * exception, the instruction stops before computing results: only the pre-computation flags
   * (of every lane) are reported. Otherwise every lane's flags are.
   */
  raised(): number {
    if (this.pre & unmaskedExceptions(this.mxcsr)) return this.pre;
    return this.pre | this.post;
  }
}
