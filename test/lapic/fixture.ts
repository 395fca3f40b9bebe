/**
 * A LAPIC on a ManualClock with every callback recorded, and register access the way a guest
 * does it (aligned 32-bit little-endian loads and stores).
 */
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { Lapic, type IpiRequest, type LapicOptions } from '../../src/vmm/irq/lapic.js';

export { LapicReg } from '../../src/vmm/irq/lapic.js';

/** 1 GHz guest TSC with offset 0: TSC values equal clock nanoseconds, which keeps tests readable. */
export const TSC_HZ = 1_000_000_000;

export interface Rig {
  lapic: Lapic;
  clock: ManualClock;
  ipis: IpiRequest[];
  eois: number[];
  wakes: { count: number };
  diagnostics: string[];
  relocations: number[];
  tprChanges: number[];
  rd(offset: number): number;
  wr(offset: number, value: number): void;
}

export function rig(overrides: Partial<LapicOptions> = {}): Rig {
  const clock = new ManualClock(1_000_000);
  const ipis: IpiRequest[] = [], eois: number[] = [], diagnostics: string[] = [], relocations: number[] = [], tprChanges: number[] = [];
  const wakes = { count: 0 };
  const lapic = new Lapic({
    apicId: 0, bsp: true, clock,
    tsc: { hz: TSC_HZ, offset: () => 0n },
    onIpi: (r) => ipis.push(r),
    onEoi: (v) => eois.push(v),
    onWake: () => { wakes.count++; },
    onRelocate: (b) => relocations.push(b),
    onTprChange: (t) => tprChanges.push(t),
    onDiagnostic: (m) => diagnostics.push(m),
    ...overrides,
  });
  return {
    lapic, clock, ipis, eois, wakes, diagnostics, relocations, tprChanges,
    rd: (offset) => {
      const data = new Uint8Array(4);
      lapic.read(offset, data);
      return new DataView(data.buffer).getUint32(0, true);
    },
    wr: (offset, value) => {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, value >>> 0, true);
      lapic.write(offset, data);
    },
  };
}

/** SVR with the software-enable bit and spurious vector 0xFF, as Linux writes it. */
export const SVR_ON = 0x1ff;
