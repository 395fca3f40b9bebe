/**
 * The facts the ACPI tables announce and the platform wiring must match, in one place.
 */
/** The SCI: ISA IRQ 9 (GSI 9), level-triggered, as the FADT and MADT say. */
export const ACPI_SCI_IRQ = 9;
/** PCI INTA-INTD land on these IOAPIC pins; the DSDT's _PRT and the PCI host bridge both use this list. */
export const PCI_INTX_GSIS: readonly number[] = [16, 17, 18, 19];
