/**
 * Where the PC/AT and its successors put the legacy devices: I/O port ranges (as bus.add() takes
 * them) and ISA IRQ numbers, as data for the monitor's wiring. These are what Linux assumes without
 * asking any firmware table (COM1 at 0x3f8 on IRQ4, the RTC on IRQ8, ...).
 */
import type { BusRange } from '../../bus.js';

const io = (base: number, size: number): BusRange => ({ space: 'io', base, size });

export const PC_IO_RANGES = {
  picMaster: io(0x20, 2),
  pit: io(0x40, 4),
  i8042Data: io(0x60, 1),
  systemControlPortB: io(0x61, 1),
  i8042Command: io(0x64, 1),
  cmosRtc: io(0x70, 2),
  postCode: io(0x80, 1),
  systemControlPortA: io(0x92, 1),
  picSlave: io(0xa0, 2),
  com1: io(0x3f8, 8),
  com2: io(0x2f8, 8),
  com3: io(0x3e8, 8),
  com4: io(0x2e8, 8),
  elcr: io(0x4d0, 2),
} as const satisfies Record<string, BusRange>;

/** ISA IRQ lines (see irq/isa-irq-routing.ts for where each reaches the PIC and the I/O APIC). */
export const PC_ISA_IRQ = {
  pit: 0, keyboard: 1, com2: 3, com4: 3, com1: 4, com3: 4, rtc: 8, mouse: 12,
} as const;
