/**
 * Validation of inject() events. The rules follow what VMX/SVM event injection accepts, so a
 * backend never gets an event the hardware would refuse at VM entry:
 * - exception: vector 0..31 except 2 (NMI has its own type, { type: 'nmi' }). Vectors that push an
 *   error code (8, 10-14, 17, 21, 29, 30) take an optional errorCode (uint32, default 0); giving
 *   one for any other vector is an error. The backend delivers it only where the guest mode pushes one.
 * - interrupt: vector 0..255, any (a real-mode PIC uses vectors 8-15, so low vectors are legal).
 * - nmi: no fields.
 */
import { VmmError } from '../api/errors.js';
import type { VcpuEvent } from '../api/types.js';
import { checkInt, checkKeys } from './checks.js';
import { describe } from './describe.js';

/** Exceptions that push an error code in protected/long mode. */
export const ERROR_CODE_VECTORS: ReadonlySet<number> = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
const NMI_VECTOR = 2;

export function checkEvent(event: unknown): VcpuEvent {
  const obj = checkKeys('event', event, ['type', 'vector', 'errorCode']);
  switch (obj['type']) {
    case 'exception': {
      checkKeys('exception event', obj, ['type', 'vector', 'errorCode']);
      const vector = checkInt('exception vector', obj['vector'], 0, 31);
      if (vector === NMI_VECTOR) {
        throw new VmmError('EINVAL', "exception vector 2 is the NMI: inject { type: 'nmi' } instead");
      }
      if (obj['errorCode'] === undefined) {
        return ERROR_CODE_VECTORS.has(vector) ? { type: 'exception', vector, errorCode: 0 } : { type: 'exception', vector };
      }
      if (!ERROR_CODE_VECTORS.has(vector)) {
        throw new VmmError('EINVAL', `exception vector ${vector} pushes no error code, but errorCode ${describe(obj['errorCode'])} was given`);
      }
      const errorCode = checkInt('exception errorCode', obj['errorCode'], 0, 0xffffffff);
      return { type: 'exception', vector, errorCode };
    }
    case 'interrupt':
      checkKeys('interrupt event', obj, ['type', 'vector']);
      return { type: 'interrupt', vector: checkInt('interrupt vector', obj['vector'], 0, 255) };
    case 'nmi':
      checkKeys('nmi event', obj, ['type']);
      return { type: 'nmi' };
    default:
      throw new VmmError('EINVAL', `event type must be 'exception', 'interrupt' or 'nmi', got ${describe(obj['type'])}`);
  }
}
