/**
 * The slice of the public Vcpu (src/frontend) that the MMU walker and the assists use. Declared
 * structurally so the x86 layer depends only on the API, never on a backend or the frontend's
 * class; any Vcpu satisfies it.
 */
import type { VcpuState, VcpuStateInput } from '../../api/types.js';
import type { GpaToHost } from './phys-memory.js';

export interface GuestCpu {
  getState(flags?: number): Partial<VcpuState>;
  setState(state: VcpuStateInput, flags?: number): void;
  readonly machine: { gpaToHost: GpaToHost };
}
