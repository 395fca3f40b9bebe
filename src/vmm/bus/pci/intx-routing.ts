/**
 * INTx wiring of bus 0: each slot's INTA..INTD lands on one of four shared, level-triggered
 * interrupt lines (PIRQ A..D) with the usual swizzle, so that the INTA of neighbouring slots
 * spreads over the four lines. A shared line is the wired-OR of every function driving it: it
 * stays asserted while any of them asserts.
 *
 * The ACPI _PRT must describe the same map: slot S, pin P (0 = INTA) -> line (S + P) mod 4.
 */
import { VmmError } from '../../../api/errors.js';
import type { InterruptLine } from '../interrupt-line.js';
import type { PciInterruptPin } from './registers.js';

export const PCI_INTX_LINES = 4;

/** Which of the four lines slot's pin (1 = INTA .. 4 = INTD) is wired to. */
export function intxLineIndex(slot: number, pin: PciInterruptPin): number {
  return (slot + pin - 1) % PCI_INTX_LINES;
}

/** One shared level-triggered line and the sources currently asserting it. */
class WiredOrLine {
  private asserted = 0;
  constructor(private readonly out: InterruptLine) {}

  /** A source's own view of the line; each source tracks its level so repeats do not count twice. */
  source(): InterruptLine {
    let level = false;
    return {
      set: (l: boolean) => {
        if (l === level) return;
        level = l;
        this.asserted += l ? 1 : -1;
        this.out.set(this.asserted > 0);
      },
      pulse: () => {
        throw new VmmError('EINVAL', 'PCI INTx is level-triggered: a function cannot pulse it');
      },
    };
  }
}

export class PciIntxRouter {
  private readonly lines: WiredOrLine[];

  constructor(lines: readonly InterruptLine[]) {
    if (lines.length !== PCI_INTX_LINES) throw new VmmError('EINVAL', `PCI INTx routing needs ${PCI_INTX_LINES} lines (PIRQ A..D), got ${lines.length}`);
    this.lines = lines.map((l) => new WiredOrLine(l));
  }

  /** A new source on the line slot's pin is wired to. */
  connect(slot: number, pin: PciInterruptPin): InterruptLine {
    return this.lines[intxLineIndex(slot, pin)]!.source();
  }
}
