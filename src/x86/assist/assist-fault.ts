import { VmmError, type VmmErrorCode } from '../../api/errors.js';

/**
 * The emulated instruction raised an x86 exception (a #PF on its RAM operand, #GP for a
 * non-canonical address, #UD, #DE...). The assist leaves RIP on the instruction and reports the
 * exception instead of delivering it: the caller may inject { type: 'exception', vector,
 * errorCode } (and set CR2 = cr2 for a #PF) to reproduce what hardware would have done.
 */
export class AssistFault extends VmmError {
  constructor(code: VmmErrorCode, message: string, readonly vector: number, readonly errorCode: number | undefined,
    readonly cr2?: number) {
    super(code, message);
    this.name = 'AssistFault';
  }
}
