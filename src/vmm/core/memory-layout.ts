/**
 * The guest-physical layout of a `tsvisor run` machine, as a PC's firmware would leave it:
 * RAM from 0 up to the PCI hole, the rest of RAM above 4 GiB, the BIOS area below 1 MiB reserved
 * (the ACPI tables live there), and the 32-bit PCI window, IOAPIC and LAPIC pages in the hole.
 */
import { VmmError } from '../../api/errors.js';
import type { GuestMemoryMap, MemoryRegion } from '../loader/memory-map.js';

export const MIB = 2 ** 20, GIB = 2 ** 30;
/** Where low RAM ends at the latest: the 32-bit PCI window starts here (as on QEMU's q35 with > 2 GiB). */
export const PCI_HOLE_START = 0xc000_0000;
/** The 32-bit PCI memory window for BARs: up to the IOAPIC page. */
export const PCI_MMIO32 = { base: PCI_HOLE_START, size: 0xfec0_0000 - PCI_HOLE_START } as const;
/** I/O ports the PCI host bridge hands out to I/O BARs. */
export const PCI_IO_WINDOW = { base: 0xc000, size: 0x4000 } as const;
/** EBDA, VGA and BIOS area: reserved in the e820 map; the ACPI tables are at 0xE0000 inside it. */
export const BIOS_AREA = { gpa: 0x9fc00, end: 0x100000 } as const;
/** Where the initial page tables and GDT of the 64-bit entry go (below the loader's boot data at 0x20000). */
export const BOOT_TABLES_GPA = 0x1000;
export const MIN_MEMORY = 64 * MIB;
export const MAX_MEMORY = 64 * GIB;

export interface RamBlock {
  gpa: number;
  size: number;
}

export interface MemoryLayout {
  /** RAM blocks to allocate and map: [0, low) and, when memory exceeds the hole, [4 GiB, ...). */
  ram: RamBlock[];
  /** What the loader turns into the e820 table. */
  map: GuestMemoryMap;
}

export function memoryLayout(bytes: number): MemoryLayout {
  if (!Number.isInteger(bytes) || bytes < MIN_MEMORY || bytes > MAX_MEMORY || bytes % MIB !== 0) {
    throw new VmmError('EINVAL', `guest memory must be whole MiB in [${MIN_MEMORY / MIB} MiB, ${MAX_MEMORY / GIB} GiB], got ${bytes} bytes`);
  }
  const low = Math.min(bytes, PCI_HOLE_START);
  const ram: RamBlock[] = [{ gpa: 0, size: low }];
  if (bytes > low) ram.push({ gpa: 4 * GIB, size: bytes - low });
  const regions: MemoryRegion[] = ram.map((r) => ({ gpa: r.gpa, size: r.size, type: 'ram' }));
  regions.push({ gpa: BIOS_AREA.gpa, size: BIOS_AREA.end - BIOS_AREA.gpa, type: 'reserved' });
  return { ram, map: { regions } };
}

/** Parses a size as kvmtool/QEMU take it: 256M, 2G, 1024K, or plain MiB ("512"). */
export function parseMemorySize(text: string): number {
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new VmmError('EINVAL', `memory size must look like 256M, 2G or 512 (MiB), got ${JSON.stringify(text)}`);
  const unit = (m[2] ?? '').toUpperCase();
  const scale = unit === 'K' ? 1024 : unit === 'G' ? GIB : unit === 'T' ? 1024 * GIB : MIB;
  return Number(m[1]) * scale;
}
