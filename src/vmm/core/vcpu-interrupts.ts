/**
 * What every vCPU of a `tsvisor run` machine gets around its LAPIC, on whichever thread it runs:
 * the CPUID bits for the LAPIC the monitor provides, the LAPIC as the vCPU loop's interrupt
 * source (the boot vCPU's with the 8259 behind LINT0), and the TSC-to-clock mapping of a vCPU
 * whose TSC follows the host clock.
 */
import { State, type CpuidRegs } from '../../api/types.js';
import type { Vcpu } from '../../frontend/index.js';
import type { Lapic } from '../irq/lapic.js';
import type { Pic8259Pair } from '../irq/pic-8259.js';
import { APIC_BUS_HZ } from '../irq/lapic-registers.js';
import { hostNow, TSC_HZ } from './time-base.js';
import type { InterruptSource } from './vcpu-loop.js';

/** CPUID bits the monitor adds to the backend's: the LAPIC it provides, and TSC-deadline where guest time is the TSC. */
const CPUID1_EDX_APIC = 1 << 9, CPUID1_ECX_TSC_DEADLINE = 1 << 24;

/**
 * tscDeadline: the monitor's clocks are the guest's (soft): the TSC ticks at TSC_HZ and the LAPIC
 * timer's input at APIC_BUS_HZ of guest time, so the vCPU also says so, as a KVM VMM does when
 * it knows the TSC rate: leaf 15H gives the core crystal clock (the LAPIC timer's input) and
 * the TSC's ratio to it, leaf 16H the nominal frequencies in MHz. A guest then need not measure
 * them against the PIT (Linux: no "Fast TSC calibration using PIT", no refined calibration, no
 * LAPIC timer calibration). On KVM the TSC is the host CPU's, whose rate the monitor does not
 * know: the leaves stay as the backend reports them.
 */
export function configureVcpuCpuid(cpu: Vcpu, tscDeadline: boolean): void {
  cpu.configureCpuid(1, { set: { edx: CPUID1_EDX_APIC, ecx: tscDeadline ? CPUID1_ECX_TSC_DEADLINE : 0 } });
  if (!tscDeadline) return;
  cpu.configureCpuid(0x15, { set: tscCrystalLeaf(TSC_HZ, APIC_BUS_HZ) });
  cpu.configureCpuid(0x16, { set: { eax: Math.round(TSC_HZ / 1e6), ebx: Math.round(TSC_HZ / 1e6), ecx: Math.round(APIC_BUS_HZ / 1e6) } });
}

/** Leaf 15H for a TSC at tscHz over a crystal at crystalHz: EBX/EAX = the ratio in lowest terms, ECX = crystalHz. */
export function tscCrystalLeaf(tscHz: number, crystalHz: number): CpuidRegs {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(tscHz, crystalHz);
  return { eax: crystalHz / g, ebx: tscHz / g, ecx: crystalHz, edx: 0 };
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
