/**
 * Machine ids. For now process-local; the cross-process registry replaces this.
 */
import type { BackendName } from '../api/types.js';
import type { Machine } from './machine.js';

let next = 1;

export const machineIds = {
  take(_backend: BackendName): number {
    return next++;
  },
  update(_m: Machine): void {},
  release(_m: Machine): void {},
};
