/**
 * How a device signals an interrupt without knowing who listens: a wire to an interrupt controller
 * (8259 PIC input, IOAPIC pin) or a message-signalled interrupt (MSI/MSI-X) written to the LAPIC
 * range. The monitor connects the ends; a device only holds the line it was given.
 */

/** One interrupt request wire. Level-triggered sources hold it with set(); edge sources pulse(). */
export interface InterruptLine {
  /** Drives the wire to level (true = asserted). Setting the same level again is not a new edge. */
  set(level: boolean): void;
  /** A rising then falling edge: one request on an edge-triggered input. */
  pulse(): void;
}

/** Where message-signalled interrupts go: the address/data pair a device writes (PCI MSI/MSI-X). */
export interface MsiSink {
  signal(address: number, data: number): void;
}

/** An InterruptLine that goes nowhere but remembers its level: for tests and unconnected pins. */
export class RecordingLine implements InterruptLine {
  level = false;
  edges = 0;
  set(level: boolean): void {
    if (level && !this.level) this.edges++;
    this.level = level;
  }
  pulse(): void {
    this.edges++;
  }
}
