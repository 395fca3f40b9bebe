/**
 * toyvirt's vCPU loop: run, then one case per exit reason in one switch. Devices are reached
 * through the assists and the bus; events from the event thread through EventDelivery.
 */
import { VmmError, hex } from '../api/errors.js';
import { State } from '../api/types.js';
import type { MemoryExit, RdmsrExit, VmExit, WrmsrExit } from '../api/types.js';
import type { Vcpu } from '../frontend/index.js';
import type { DeviceBus } from './bus.js';
import { MSR_IA32_APIC_BASE, type LapicDevice } from './devices/lapic.js';
import { EventDelivery } from './event-delivery.js';
import type { EventThread } from './event-thread.js';
import { withGuestFaults } from './assist-faults.js';

const VECTOR_GP = 13;

export class ExitLoop {
  private readonly delivery: EventDelivery;

  constructor(
    private readonly cpu: Vcpu,
    private readonly bus: DeviceBus,
    private readonly lapic: LapicDevice,
    private readonly events: EventThread,
    private readonly say: (line: string) => void,
  ) {
    this.delivery = new EventDelivery(cpu, events, say);
  }

  /** Runs until the guest shuts down. */
  run(): void {
    for (;;) {
      const exit = this.cpu.run();
      this.events.noteCr8(exit.exitState.cr8);
      if (!this.handle(exit)) return;
    }
  }

  /** Handles one exit; false when the machine is done. */
  private handle(exit: VmExit): boolean {
    switch (exit.reason) {
      case 'io':
        withGuestFaults(this.cpu, () => this.cpu.assistIo(exit, (req) => this.bus.dispatchIo(req)));
        return true;
      case 'memory':
        this.emulateMmio(exit);
        return true;
      case 'rdmsr':
        this.rdmsr(exit);
        return true;
      case 'wrmsr':
        this.refuseMsr(exit);
        return true;
      case 'stopped':
        this.delivery.deliverOne(exit.exitState);
        return true;
      case 'halted':
        // Only an event can wake the guest: sleep until the event thread has one for it.
        if (!this.delivery.canWakeHaltedGuest(exit.exitState)) this.events.waitForNextPost();
        this.delivery.deliverOne(exit.exitState);
        return true;
      case 'int-ready':
        this.delivery.windowOpen(exit.exitState);
        return true;
      case 'shutdown':
        this.say('Machine received shutdown');
        return false;
      case 'invalid':
        throw new VmmError('EIO', `invalid exit at rip ${hex(this.rip())}: ${exit.detail}`);
      case 'nmi-ready':
      case 'cpuid':
      case 'tpr-changed':
      case 'monitor':
      case 'mwait':
        throw new VmmError('ENOTSUP', `unexpected ${exit.reason} exit at rip ${hex(this.rip())} (toyvirt did not ask for it)`);
    }
  }

  /**
   * The assist emulates the instruction and calls the bus for its device access. An exit the
   * instruction does not explain (e.g. the CPU itself reading an IDT or GDT outside RAM) would
   * otherwise be skipped silently: it ends the run instead.
   */
  private emulateMmio(exit: MemoryExit): void {
    let accessed = false;
    const faulted = withGuestFaults(this.cpu, () => this.cpu.assistMem(exit, (req) => {
      accessed = true;
      this.bus.dispatchMem(req);
    }));
    if (!accessed && !faulted) {
      throw new VmmError('EFAULT', `guest-physical ${hex(exit.gpa)} (${exit.prot}) is outside RAM and no device; the instruction at rip ${hex(this.rip())} does not access it`);
    }
  }

  /**
   * IA32_APIC_BASE is the monitor's, as on NVMM. kvm: the backend filters MSR 0x1B to user space,
   * so the guest's RDMSR arrives here. soft: the backend answers it itself with the same value
   * (0xFEE00900), so this is not reached. smallkern checks what the guest actually reads.
   */
  private rdmsr(exit: RdmsrExit): void {
    if (exit.msr !== MSR_IA32_APIC_BASE) {
      this.refuseMsr(exit);
      return;
    }
    const value = this.lapic.apicBaseMsr;
    this.cpu.setState({
      gprs: { rax: value & 0xffffffffn, rdx: value >> 32n, rip: exit.npc },
    }, State.GPRS);
  }

  /** What hardware does for an MSR it does not have: #GP(0) at the instruction. */
  private refuseMsr(exit: RdmsrExit | WrmsrExit): void {
    this.say(`${exit.reason === 'rdmsr' ? 'RDMSR' : 'WRMSR'} of MSR ${hex(exit.msr)} not supported: injecting #GP`);
    this.cpu.inject({ type: 'exception', vector: VECTOR_GP, errorCode: 0 });
  }

  private rip(): bigint {
    return this.cpu.getState(State.GPRS).gprs?.rip ?? 0n;
  }
}
