/**
 * MADT ("APIC", revision 5): where the interrupt controllers are and how ISA IRQs map to GSIs.
 *
 * - Local APIC address 0xFEE00000; flags PCAT_COMPAT (dual 8259s are present, so Linux masks them).
 * - One Processor Local APIC entry per vCPU: ACPI processor UID = APIC id = vCPU index, enabled.
 * - One IOAPIC, GSI base 0, so ISA IRQ n is GSI n unless overridden.
 * - Overrides: IRQ0 -> GSI2 (the PIT output sits on IOAPIC pin 2, as on every PC), and IRQ9 ->
 *   GSI9 level-triggered, active-high for the SCI (QEMU's choice; the SCI line a device drives is
 *   asserted = interrupt pending whatever polarity the IOAPIC pin is programmed with).
 * - Local APIC NMI: LINT1 of every processor (UID 0xFF) is the NMI input.
 */
import type { ResolvedAcpiOptions } from './options.js';
import { LOCAL_APIC_ADDRESS, SCI_IRQ } from './options.js';
import { concat } from './aml.js';
import { TableWriter, sdt } from './sdt.js';

export const MADT_REVISION = 5;
export const MADT_PCAT_COMPAT = 1;

/** MPS INTI flags: polarity bits 1:0 (1 high, 3 low), trigger bits 3:2 (1 edge, 3 level); 0 = bus default. */
export const IntiFlags = { Conforms: 0, ActiveHigh: 1, ActiveLow: 3, Edge: 1 << 2, Level: 3 << 2 } as const;

export interface IsaOverride {
  irq: number;
  gsi: number;
  flags: number;
}

export function isaOverrides(): IsaOverride[] {
  return [
    { irq: 0, gsi: 2, flags: IntiFlags.Conforms },
    { irq: SCI_IRQ, gsi: SCI_IRQ, flags: IntiFlags.Level | IntiFlags.ActiveHigh },
  ];
}

/** Entry type, length, then the fields: the structures of ACPI 6.5 section 5.2.12. */
function entry(type: number, length: number, fill: (w: TableWriter) => void): Uint8Array {
  const w = new TableWriter(length);
  w.u8(0, type);
  w.u8(1, length);
  fill(w);
  return w.bytes;
}

const EntryType = { LocalApic: 0, IoApic: 1, InterruptOverride: 2, LocalApicNmi: 4 } as const;
const LOCAL_APIC_ENABLED = 1;
const ALL_PROCESSORS = 0xff;

export function buildMadt(o: ResolvedAcpiOptions): Uint8Array {
  const head = new TableWriter(8);
  head.u32(0, LOCAL_APIC_ADDRESS);
  head.u32(4, MADT_PCAT_COMPAT);
  const entries: Uint8Array[] = [];
  for (let cpu = 0; cpu < o.vcpus; cpu++) {
    entries.push(entry(EntryType.LocalApic, 8, (w) => {
      w.u8(2, cpu); // ACPI processor UID (matches the DSDT processor device's _UID)
      w.u8(3, cpu); // APIC id
      w.u32(4, LOCAL_APIC_ENABLED);
    }));
  }
  entries.push(entry(EntryType.IoApic, 12, (w) => {
    w.u8(2, o.ioapic.id);
    w.u32(4, o.ioapic.address);
    w.u32(8, 0); // GSI base
  }));
  for (const ov of isaOverrides()) {
    entries.push(entry(EntryType.InterruptOverride, 10, (w) => {
      w.u8(2, 0); // bus: ISA
      w.u8(3, ov.irq);
      w.u32(4, ov.gsi);
      w.u16(8, ov.flags);
    }));
  }
  entries.push(entry(EntryType.LocalApicNmi, 6, (w) => {
    w.u8(2, ALL_PROCESSORS);
    w.u16(3, IntiFlags.Conforms);
    w.u8(5, 1); // LINT1
  }));
  return sdt('APIC', MADT_REVISION, concat([head.bytes, ...entries]));
}
