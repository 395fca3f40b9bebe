import { VmmError } from '../../api/errors.js';
import type { WalkFault } from './walker.js';

/**
 * A failed guest-virtual translation: VmmError code 'EFAULT' whose message says which entry and
 * why; fault carries the structured record (vector, #PF error code) for callers that inject it.
 */
export class TranslationError extends VmmError {
  constructor(readonly fault: WalkFault) {
    super('EFAULT', fault.reason);
    this.name = 'TranslationError';
  }
}
