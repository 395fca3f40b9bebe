/**
 * What a write to ICR low asks for (Intel SDM vol. 3A "Interrupt Command Register" and the table
 * "Valid Combinations for the Pentium 4 and Intel Xeon Processors' Local xAPIC Interrupt Command
 * Register"): an IPI for the monitor to route, a self IPI, an error, or nothing.
 */
import { VmmError, hex } from '../../api/errors.js';
import { DELIVERY_MODE_NAMES, SHORTHAND_NAMES, type IpiRequest, type TriggerMode } from './lapic-message.js';
import { FIRST_LEGAL_VECTOR, Icr } from './lapic-registers.js';

export type IcrAction =
  | { kind: 'send'; request: IpiRequest }
  /** Self shorthand, fixed: the sender accepts the vector itself (level is treated as edge). */
  | { kind: 'self'; vector: number }
  /** Fixed or lowest-priority with vector 0-15: ESR "send illegal vector", nothing sent. */
  | { kind: 'illegal-vector' }
  /** A combination the SDM reserves or leaves undefined: nothing sent. */
  | { kind: 'ignored'; reason: string };

/** Decodes an ICR write (low = the value written, high = ICR high). SMI raises ENOTSUP: no SMM here. */
export function decodeIcr(low: number, high: number, source: number): IcrAction {
  const modeField = (low & Icr.DELIVERY_MODE) >>> Icr.DELIVERY_MODE_SHIFT;
  const deliveryMode = DELIVERY_MODE_NAMES.get(modeField);
  const vector = low & Icr.VECTOR;
  const shorthand = SHORTHAND_NAMES[(low & Icr.SHORTHAND) >>> Icr.SHORTHAND_SHIFT]!;
  if (deliveryMode === undefined || deliveryMode === 'extint') {
    return { kind: 'ignored', reason: `ICR ${hex(low)}: delivery mode ${modeField} is reserved for IPIs; nothing sent` };
  }
  if ((deliveryMode === 'fixed' || deliveryMode === 'lowest-priority') && vector < FIRST_LEGAL_VECTOR) {
    return { kind: 'illegal-vector' };
  }
  if (deliveryMode === 'smi') throw new VmmError('ENOTSUP', `SMI IPI (ICR ${hex(low)}): system management mode is not emulated`);
  if (shorthand === 'self') {
    if (deliveryMode !== 'fixed') {
      return { kind: 'ignored', reason: `ICR ${hex(low)}: ${deliveryMode} with the self shorthand is undefined; nothing sent` };
    }
    return { kind: 'self', vector };
  }
  const trigger: TriggerMode = (low & Icr.TRIGGER_LEVEL) !== 0 ? 'level' : 'edge';
  return {
    kind: 'send',
    request: {
      destination: high >>> 24,
      destMode: (low & Icr.DEST_LOGICAL) !== 0 ? 'logical' : 'physical',
      shorthand, deliveryMode, vector,
      level: (low & Icr.LEVEL_ASSERT) !== 0,
      trigger,
      source,
    },
  };
}
