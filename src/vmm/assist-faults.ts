/**
 * An instruction the assist emulates for a device access can fault as it would on hardware (a #PF
 * on its RAM operand, #GP, alignment #GP or #XM for an SSE form): the assist reports it as an
 * AssistFault and leaves RIP on the instruction. The monitor then does what the CPU would have
 * done: CR2 for a page fault, and the exception injected for the next run.
 */
import { AssistFault, State, type Vcpu } from '../index.js';

/**
 * Runs one assist call; a guest fault it reports is delivered to the guest instead of ending the
 * run. Returns whether it faulted (the instruction did not complete).
 */
export function withGuestFaults(cpu: Vcpu, emulate: () => void): boolean {
  try {
    emulate();
    return false;
  } catch (e) {
    if (!(e instanceof AssistFault)) throw e;
    if (e.cr2 !== undefined) cpu.setState({ crs: { cr2: BigInt.asUintN(64, BigInt(e.cr2)) } }, State.CRS);
    cpu.inject({ type: 'exception', vector: e.vector, errorCode: e.errorCode });
    return true;
  }
}
