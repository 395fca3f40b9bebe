/**
 * How PCI INTx pins reach the IOAPIC: the one rule both the DSDT's _PRT and the PCI host bridge
 * model must follow. Device `slot`'s pin (0 = INTA .. 3 = INTD) goes to
 * gsis[(slot + pin) % gsis.length], the usual swizzle so neighbouring slots spread over the lines.
 * Linux programs these GSIs level-triggered, active-low (what _PRT entries without a link device
 * mean); the line a device holds is asserted while its interrupt is pending.
 */
import { VmmError } from '../../../api/errors.js';

/** Default PCI interrupt GSIs: IOAPIC pins 16-23, the PIRQA-H lines of a PC chipset, shared with no ISA IRQ. */
export const DEFAULT_PCI_INTX_GSIS: readonly number[] = [16, 17, 18, 19, 20, 21, 22, 23];

export const PCI_SLOTS = 32;

export function pciIntxGsi(slot: number, pin: number, gsis: readonly number[] = DEFAULT_PCI_INTX_GSIS): number {
  if (!Number.isInteger(slot) || slot < 0 || slot >= PCI_SLOTS) throw new VmmError('EINVAL', `PCI slot ${slot} is not 0-31`);
  if (!Number.isInteger(pin) || pin < 0 || pin > 3) throw new VmmError('EINVAL', `PCI interrupt pin ${pin} is not 0-3 (INTA-INTD)`);
  if (gsis.length === 0) throw new VmmError('EINVAL', 'no GSIs given for PCI INTx routing');
  return gsis[(slot + pin) % gsis.length]!;
}
