/**
 * Non-fault ways an instruction can leave the run loop. They are thrown from deep inside an
 * instruction (a memory access, a system instruction) and caught by the run loop, which turns
 * them into a VmExit. Thrown before the instruction has side effects, so RIP still points at it.
 */
import type { VmExit } from '../../api/types.js';

/** An access to a guest-physical address with no RAM behind it (or a write to read-only RAM). */
export class MemoryExitSignal {
  constructor(
    readonly gpa: number,
    readonly write: boolean,
    readonly size: number,
    readonly prot: 'r' | 'w' | 'x',
  ) {}
}

/** An exit decided by a system instruction; exit lacks exitState, which the run loop adds. */
export class ExitSignal {
  constructor(readonly exit: DistributiveOmit<VmExit, 'exitState'>) {}
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type ExitWithoutState = DistributiveOmit<VmExit, 'exitState'>;
