/**
 * The MSRs the monitor answers for the vCPU (those the backend leaves to it as rdmsr/wrmsr exits):
 * the platform's table, and the LAPIC's IA32_APIC_BASE and IA32_TSC_DEADLINE. A read that returns
 * undefined, or a write that returns false, is #GP in the guest, as on a CPU without that MSR.
 */
import { MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE, type Lapic } from '../irq/lapic.js';
import { platformMsrs } from './platform-msrs.js';

export interface MsrSpace {
  read(msr: number): bigint | undefined;
  write(msr: number, value: bigint): boolean;
}

export function monitorMsrs(lapic: Lapic, tscDeadline: boolean): MsrSpace {
  const table = platformMsrs();
  return {
    read(msr) {
      if (msr === MSR_IA32_APIC_BASE) return lapic.readApicBaseMsr();
      if (msr === MSR_IA32_TSC_DEADLINE && tscDeadline) return lapic.readTscDeadline();
      return table.get(msr)?.value;
    },
    write(msr, value) {
      if (msr === MSR_IA32_APIC_BASE) return lapic.writeApicBaseMsr(value).ok;
      if (msr === MSR_IA32_TSC_DEADLINE && tscDeadline) {
        lapic.writeTscDeadline(value);
        return true;
      }
      const m = table.get(msr);
      if (!m || ((value ^ m.value) & ~m.writable) !== 0n) return false;
      m.value = value;
      return true;
    },
  };
}
