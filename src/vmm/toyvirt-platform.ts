/**
 * toyvirt's machine around the vCPU, from the monitor's pieces: irq/'s LAPIC for the boot
 * processor, core's MSR space for its IA32_APIC_BASE (and the platform's MSRs), the interrupt
 * source core's vCPU loop injects from, and the bus as the loop sees it. Unlike `tsvisor run`,
 * toyvirt has no open bus: an access no device answers ends the run (ENODEV, naming it).
 */
import { hex } from '../api/errors.js';
import type { DeviceBus } from './bus.js';
import { ApicBus } from './core/apic-bus.js';
import { monitorMsrs, type MsrSpace } from './core/msr-space.js';
import type { Clock } from './bus/clock.js';
import { TSC_HZ } from './core/time-base.js';
import type { InterruptSource, LoopPlatform } from './core/vcpu-loop.js';
import type { EventDelivery } from './event-delivery.js';
import { Lapic } from './irq/lapic.js';

export const TOYVIRT_VCPU_ID = 120;

/**
 * The boot processor's LAPIC on the machine's clock; tsc0 is the guest TSC at clock time 0. With
 * one vCPU its IPIs can only reach itself, and no IOAPIC waits for an EOI.
 */
export function toyvirtLapic(clock: Clock, tsc0: bigint): Lapic {
  const apicBus = new ApicBus();
  const lapic = new Lapic({
    apicId: TOYVIRT_VCPU_ID, bsp: true, clock,
    tsc: { hz: TSC_HZ, offset: () => tsc0 },
    onIpi: (req) => apicBus.ipi(req),
    onEoi: () => {},
  });
  apicBus.lapics.push(lapic);
  return lapic;
}

/** The devices on toyvirt's bus, and the LAPIC's timer; the machine ends only by the guest's shutdown. */
export function toyvirtPlatform(bus: DeviceBus, lapic: Lapic): LoopPlatform {
  return {
    bus: {
      routeIo: (req) => { bus.dispatchIo(req); return true; },
      routeMem: (req) => { bus.dispatchMem(req); return true; },
    },
    poll: (now) => lapic.poll(now),
    power: undefined,
  };
}

/**
 * What the loop injects: the event thread's requests first (its hardware interrupt comes from
 * outside the APIC, as an 8259's ExtINT does, and goes before the LAPIC's vectors), then the LAPIC's.
 */
export function toyvirtInterrupts(delivery: EventDelivery, lapic: Lapic): InterruptSource {
  return {
    takeException: () => delivery.takeException(),
    takeNmi: () => lapic.takeNmi() || delivery.takeNmi(),
    pending: () => delivery.holdsInterrupt() || lapic.pendingVector() !== undefined,
    take: () => delivery.holding ? delivery.takeInterrupt() : lapic.acknowledge(),
  };
}

/**
 * The monitor's MSRs (IA32_APIC_BASE from the LAPIC; no TSC-deadline, which CPUID does not offer
 * here), saying each RDMSR/WRMSR they refuse: the loop then injects #GP, as hardware does.
 */
export function toyvirtMsrs(lapic: Lapic, say: (line: string) => void): MsrSpace {
  const msrs = monitorMsrs(lapic, false);
  const refused = (what: string, msr: number): void => say(`${what} of MSR ${hex(msr)} refused: injecting #GP`);
  return {
    read(msr) {
      const value = msrs.read(msr);
      if (value === undefined) refused('RDMSR', msr);
      return value;
    },
    write(msr, value) {
      const ok = msrs.write(msr, value);
      if (!ok) refused('WRMSR', msr);
      return ok;
    },
  };
}
