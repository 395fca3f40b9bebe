/**
 * What every vCPU of a `tsvisor run` machine gets around its LAPIC, on whichever thread it runs:
 * the CPUID bits for the LAPIC the monitor provides, the LAPIC as the vCPU loop's interrupt
 * source (the boot vCPU's with the 8259 behind LINT0), and the TSC-to-clock mapping of a vCPU
 * whose TSC follows the host clock.
 */
import { State } from '../../api/types.js';
import type { Vcpu } from '../../frontend/index.js';
import type { Lapic } from '../irq/lapic.js';
import type { Pic8259Pair } from '../irq/pic-8259.js';
import { hostNow } from './time-base.js';
import type { InterruptSource } from './vcpu-loop.js';

/** CPUID bits the monitor adds to the backend's: the LAPIC it provides, and TSC-deadline where guest time is the TSC. */
const CPUID1_EDX_APIC = 1 << 9, CPUID1_ECX_TSC_DEADLINE = 1 << 24;

export function configureVcpuCpuid(cpu: Vcpu, tscDeadline: boolean): void {
  cpu.configureCpuid(1, { set: { edx: CPUID1_EDX_APIC, ecx: tscDeadline ? CPUID1_ECX_TSC_DEADLINE : 0 } });
}

/** The boot vCPU's LAPIC as its interrupt source, with the 8259 behind its LINT0 (ExtINT). */
export function bootLapicSource(lapic: Lapic, pic: Pic8259Pair): InterruptSource {
  return {
    takeNmi: () => lapic.takeNmi(),
    pending: () => lapic.hasExtInt() ? pic.hasInterrupt() : lapic.pendingVector() !== undefined,
    take: () => {
      if (!lapic.hasExtInt()) return lapic.acknowledge();
      const vector = pic.acknowledge();
      lapic.acknowledgeExtInt();
      return vector;
    },
  };
}

/** An application processor's LAPIC (nothing on LINT0): an INIT sends the vCPU back to wait for a SIPI. */
export function apLapicSource(lapic: Lapic): InterruptSource {
  return {
    takeNmi: () => lapic.takeNmi(),
    pending: () => lapic.pendingVector() !== undefined,
    take: () => lapic.acknowledge(),
    takeInit: () => lapic.takeInit(),
  };
}

/** The guest TSC at host-clock time 0, for a vCPU whose TSC counts host nanoseconds (a 'host' TSC machine). */
export function hostTscOffset(cpu: Vcpu): bigint {
  return cpu.getState(State.MSRS).msrs!.tsc - BigInt(hostNow());
}
