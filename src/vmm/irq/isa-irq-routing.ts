/**
 * How a PC board wires the ISA interrupt requests: each device's IRQn wire goes both to the 8259 PIC
 * pair (input n) and to I/O APIC pin (GSI) n, except IRQ0 (the PIT), which reaches I/O APIC pin 2 --
 * the interrupt source override every PC's MADT declares (pin 0 is where the 8259's INT output goes,
 * as ExtINT). Which controller the guest actually uses is its choice: the other one has the input
 * masked.
 */
import { VmmError } from '../../api/errors.js';
import type { InterruptLine } from '../bus/interrupt-line.js';

/** One wire driving several controller inputs at once. */
export class SplitLine implements InterruptLine {
  private readonly outputs: readonly InterruptLine[];
  constructor(...outputs: InterruptLine[]) {
    this.outputs = outputs;
  }
  set(level: boolean): void {
    for (const out of this.outputs) out.set(level);
  }
  pulse(): void {
    for (const out of this.outputs) out.pulse();
  }
}

/** The I/O APIC pin an ISA IRQ reaches (IRQ0 -> GSI 2; the rest identity). */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export interface PicInputs { input(irq: number): InterruptLine }
export interface IoApicInputs { input(pin: number): InterruptLine }

/** The 15 ISA IRQ wires of a PC (IRQ2 is the PIC cascade and has none). */
export class IsaIrqRouting {
  private readonly lines = new Map<number, InterruptLine>();

  constructor(pic: PicInputs, ioapic: IoApicInputs) {
    for (let irq = 0; irq < 16; irq++) {
      if (irq === 2) continue;
      this.lines.set(irq, new SplitLine(pic.input(irq), ioapic.input(isaIrqToGsi(irq))));
    }
  }

  /** The wire a device on ISA IRQ irq drives. */
  line(irq: number): InterruptLine {
    const line = this.lines.get(irq);
    if (!line) throw new VmmError('EINVAL', `no ISA IRQ ${irq} wire: ISA IRQs are 0..15 without the cascade IRQ2`);
    return line;
  }
}
