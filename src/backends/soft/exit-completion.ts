/**
 * Exit completion on the soft backend, the protocol every backend follows (the KVM backend through
 * the kernel's own completion): after a non-string 'io' exit the caller only exchanges data (the
 * exit has backendCompletes; cpu.assistIo calls the handler on exit.data, or the caller fills
 * exit.data itself), and the instruction completes at the start of the next run():
 *   IN:  AL/AX merged, EAX written and RAX's upper half cleared, from exit.data as it stands then
 *        (a run() without any fill completes with the zeros the exit came with: never re-executed);
 *   OUT: nothing to write (the handler read exit.data).
 * Then RIP = npc, the instruction retires (instret: the TSC counts it), and if it started with TF
 * set a single-step #DB (DR6.BS) is queued, as kvm_skip_emulated_instruction does.
 * Until then getState shows the instruction not done (RIP on it, RAX as before), as on KVM.
 * A setState() before that run() first completes it, then applies the caller's values (the KVM
 * backend does the same with KVM_RUN + immediate_exit): `rip = npc` stays harmless, a VMM that
 * moves RIP elsewhere still gets the IN's value in RAX, and registers it sets win.
 * String I/O (INS/OUTS) and MMIO exits carry no backendCompletes here: cpu.assistIo/assistMem
 * emulate them with src/x86/assist and commit the registers at once (see the API README).
 */
import { RIP_LO as RIP_LO_, TF as TF_ } from '../../x86/exec/context.js';
import type { SoftCpu } from './cpu.js';

const TF = TF_, RIP_LO = RIP_LO_;
/** DR6.BS: the #DB is a single-step trap. */
const DR6_BS = 1 << 14;
const RAX = 0;

/** What the next run() has to finish: a non-string IN/OUT. */
export interface IoCompletion {
  readonly in: boolean;
  readonly size: number;
  /** The exit's own data: the handler (or the caller) filled it for IN. */
  readonly data: Uint8Array;
  readonly npcLo: number;
  readonly npcHi: number;
}

/** Finishes the instruction of an io exit (see the header). */
export function completeIo(cpu: SoftCpu, c: IoCompletion): void {
  const regs = cpu.regs;
  if (c.in) {
    const d = c.data;
    if (c.size === 1) regs[RAX] = (regs[RAX]! & ~0xff) | d[0]!;
    else if (c.size === 2) regs[RAX] = (regs[RAX]! & ~0xffff) | d[0]! | (d[1]! << 8);
    else {
      regs[RAX] = d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24);
      regs[RAX + 1] = 0;
    }
  }
  regs[RIP_LO] = c.npcLo;
  regs[RIP_LO + 1] = c.npcHi;
  cpu.instret++;
  if ((cpu.flagBits & TF) !== 0) {
    cpu.dr6 |= DR6_BS;
    cpu.pending.unshift({ kind: 'exception', vector: 1, errorCode: undefined });
  }
}
