/**
 * What the ACPI tables describe, as the monitor passes it, with the defaults filled in and every
 * value checked: a bad option is a VmmError naming it, never a table Linux rejects later.
 */
import { VmmError, hex } from '../../../api/errors.js';
import { acpiPmPorts, type AcpiPmPorts } from '../../devices/legacy/acpi-pm.js';
import { DEFAULT_PCI_INTX_GSIS } from './pci-intx.js';

export interface AcpiRange {
  base: number;
  size: number;
}

export interface AcpiPciOptions {
  /** Window for 32-bit memory BARs (must end at or below 4 GiB). */
  mem32: AcpiRange;
  /** Optional window for 64-bit BARs (above the 32-bit one). */
  mem64?: AcpiRange;
  /** GSIs INTA-INTD swizzle over (see pci-intx.ts); default 16-23. Each at least 16 (no ISA IRQ). */
  intxGsis?: readonly number[];
  /** A PCIe ECAM region: adds MCFG, makes PCI0 a PNP0A08 and reserves the region as a motherboard resource. */
  ecam?: { base: number; startBus?: number; endBus?: number };
}

export interface AcpiOptions {
  /** vCPUs: APIC ids and ACPI processor UIDs 0..vcpus-1 (1-254: xAPIC ids, 0xFF is broadcast). */
  vcpus: number;
  /** Where the tables go (RSDP first, 16-byte aligned); default 0xE0000, the BIOS area Linux scans. */
  gpa?: number;
  /** Bytes available there; default up to 1 MiB when below it (the BIOS area), else 64 KiB. */
  limit?: number;
  /** The PM block's ports; default the AcpiPmDevice's at 0x600. */
  pm?: AcpiPmPorts;
  /** The IOAPIC (GSI base 0); default id 0, 0xFEC00000, 24 pins. */
  ioapic?: { id?: number; address?: number; pins?: number };
  pci: AcpiPciOptions;
  /** Which legacy devices the DSDT lists; default all. */
  legacy?: { com1?: boolean; rtc?: boolean; i8042?: boolean };
  /** CMOS index of the century byte for the FADT (0 = none); default 0x32. */
  rtcCenturyIndex?: number;
}

export interface ResolvedEcam {
  base: number;
  startBus: number;
  endBus: number;
}

export interface ResolvedAcpiOptions {
  vcpus: number;
  gpa: number;
  limit: number;
  pm: AcpiPmPorts;
  ioapic: { id: number; address: number; pins: number };
  pci: { mem32: AcpiRange; mem64?: AcpiRange; intxGsis: readonly number[]; ecam?: ResolvedEcam };
  legacy: { com1: boolean; rtc: boolean; i8042: boolean };
  rtcCenturyIndex: number;
}

export const DEFAULT_TABLES_GPA = 0xe0000;
export const LOCAL_APIC_ADDRESS = 0xfee00000;
export const IOAPIC_DEFAULT_ADDRESS = 0xfec00000;
/** The SCI's ISA IRQ, which the MADT keeps at GSI 9. */
export const SCI_IRQ = 9;
const FOUR_GIB = 2 ** 32;
const ONE_MIB = 0x100000;
const DEFAULT_LIMIT_ABOVE_1M = 0x10000;
const ECAM_BUS_BYTES = 1 << 20;

function integerIn(what: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new VmmError('EINVAL', `ACPI option ${what} = ${v} is not an integer in ${min}..${max}`);
  return v;
}

function checkRange(what: string, r: AcpiRange, limit: number): AcpiRange {
  integerIn(`${what}.base`, r.base, 0, Number.MAX_SAFE_INTEGER);
  integerIn(`${what}.size`, r.size, 1, Number.MAX_SAFE_INTEGER);
  if (r.base + r.size > limit) throw new VmmError('EINVAL', `ACPI option ${what} ${hex(r.base)}+${hex(r.size)} ends beyond ${hex(limit)}`);
  return { base: r.base, size: r.size };
}

function overlaps(a: AcpiRange, b: AcpiRange): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export function resolveAcpiOptions(o: AcpiOptions): ResolvedAcpiOptions {
  const vcpus = integerIn('vcpus', o.vcpus, 1, 254);
  const gpa = integerIn('gpa', o.gpa ?? DEFAULT_TABLES_GPA, 0, FOUR_GIB - 1);
  if (gpa % 16 !== 0) throw new VmmError('EINVAL', `ACPI option gpa ${hex(gpa)} is not 16-byte aligned (the RSDP must be)`);
  const limit = integerIn('limit', o.limit ?? (gpa < ONE_MIB ? ONE_MIB - gpa : DEFAULT_LIMIT_ABOVE_1M), 1, FOUR_GIB - gpa);

  const pm = o.pm ?? acpiPmPorts();
  for (const key of ['pm1aEvent', 'pm1aControl', 'pmTimer', 'reset'] as const) integerIn(`pm.${key}`, pm[key], 1, 0xffff);
  integerIn('pm.resetValue', pm.resetValue, 0, 0xff);
  integerIn('pm.slpTypS5', pm.slpTypS5, 0, 7);

  const ioapic = {
    id: integerIn('ioapic.id', o.ioapic?.id ?? 0, 0, 255),
    address: integerIn('ioapic.address', o.ioapic?.address ?? IOAPIC_DEFAULT_ADDRESS, 0, FOUR_GIB - 0x1000),
    pins: integerIn('ioapic.pins', o.ioapic?.pins ?? 24, 16, 240),
  };
  if (ioapic.address % 0x1000 !== 0) throw new VmmError('EINVAL', `ACPI option ioapic.address ${hex(ioapic.address)} is not 4 KiB aligned`);

  const intxGsis = o.pci.intxGsis ?? DEFAULT_PCI_INTX_GSIS;
  if (intxGsis.length === 0) throw new VmmError('EINVAL', 'ACPI option pci.intxGsis is empty');
  intxGsis.forEach((g, i) => integerIn(`pci.intxGsis[${i}]`, g, 16, ioapic.pins - 1));

  const mem32 = checkRange('pci.mem32', o.pci.mem32, FOUR_GIB);
  const mem64 = o.pci.mem64 && checkRange('pci.mem64', o.pci.mem64, 2 ** 52);
  let ecam: ResolvedEcam | undefined;
  if (o.pci.ecam) {
    const startBus = integerIn('pci.ecam.startBus', o.pci.ecam.startBus ?? 0, 0, 255);
    const endBus = integerIn('pci.ecam.endBus', o.pci.ecam.endBus ?? 255, startBus, 255);
    const base = integerIn('pci.ecam.base', o.pci.ecam.base, 0, 2 ** 52);
    if (base % ECAM_BUS_BYTES !== 0) throw new VmmError('EINVAL', `ACPI option pci.ecam.base ${hex(base)} is not 1 MiB aligned`);
    ecam = { base, startBus, endBus };
  }

  // Windows must not hide the interrupt controllers, the tables or each other.
  const fixed: [string, AcpiRange][] = [
    ['the IOAPIC', { base: ioapic.address, size: 0x1000 }],
    ['the local APIC range', { base: LOCAL_APIC_ADDRESS, size: 0x100000 }],
    ['the ACPI tables', { base: gpa, size: limit }],
  ];
  if (ecam) fixed.push(['the ECAM region', ecamRange(ecam)]);
  const windows: [string, AcpiRange][] = [['pci.mem32', mem32]];
  if (mem64) windows.push(['pci.mem64', mem64]);
  for (const [wname, w] of windows) {
    for (const [fname, f] of fixed) {
      if (overlaps(w, f)) throw new VmmError('EINVAL', `ACPI option ${wname} ${hex(w.base)}+${hex(w.size)} overlaps ${fname} at ${hex(f.base)}`);
    }
  }
  if (mem64 && overlaps(mem32, mem64)) throw new VmmError('EINVAL', 'ACPI options pci.mem32 and pci.mem64 overlap');

  const century = integerIn('rtcCenturyIndex', o.rtcCenturyIndex ?? 0x32, 0, 0x7f);
  return {
    vcpus, gpa, limit, pm, ioapic, rtcCenturyIndex: century,
    pci: { mem32, ...(mem64 ? { mem64 } : {}), intxGsis, ...(ecam ? { ecam } : {}) },
    legacy: { com1: o.legacy?.com1 ?? true, rtc: o.legacy?.rtc ?? true, i8042: o.legacy?.i8042 ?? true },
  };
}

/** The guest-physical bytes the ECAM region's buses occupy. */
export function ecamRange(e: ResolvedEcam): AcpiRange {
  return { base: e.base + e.startBus * ECAM_BUS_BYTES, size: (e.endBus - e.startBus + 1) * ECAM_BUS_BYTES };
}
