/**
 * The guest-physical memory map the monitor hands the loader, turned into the e820 table the
 * kernel is told about and the RAM the loader may place things in.
 *
 * The monitor describes what it backs and what it keeps: RAM regions (e.g. [0, 3 GiB) and
 * [4 GiB, top)) and non-RAM regions laid over them (the EBDA/BIOS hole 0x9fc00..0x100000, the
 * ACPI tables area). A non-RAM region wins over the RAM under it; two different non-RAM types on
 * the same byte are a contradiction and are refused. Gaps (the PCI hole) are simply absent.
 */
import { VmmError, hex } from '../../api/errors.js';

export type MemoryType = 'ram' | 'reserved' | 'acpi' | 'nvs';

export interface MemoryRegion {
  gpa: number;
  size: number;
  type: MemoryType;
}

export interface GuestMemoryMap {
  regions: MemoryRegion[];
}

/** One e820 entry; `type` is the number the kernel reads (1 RAM, 2 reserved, 3 ACPI, 4 NVS). */
export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

export interface Range {
  start: number;
  /** Exclusive. */
  end: number;
}

export const E820_TYPE: Readonly<Record<MemoryType, number>> = { ram: 1, reserved: 2, acpi: 3, nvs: 4 };

/** Guest-physical addresses are kept below 2^52 (the architectural MAXPHYADDR limit). */
export const MAX_GPA = 2 ** 52;

/** Sorted, merged, non-overlapping e820 entries for the map. */
export function buildE820(map: GuestMemoryMap): E820Entry[] {
  const pieces = classify(map);
  const out: E820Entry[] = [];
  for (const p of pieces) {
    const type = E820_TYPE[p.type];
    const last = out[out.length - 1];
    if (last && last.type === type && last.addr + last.size === p.start) last.size += p.end - p.start;
    else out.push({ addr: p.start, size: p.end - p.start, type });
  }
  return out;
}

/** The RAM the kernel may use and the loader may place things in: RAM minus every non-RAM region. */
export function usableRam(map: GuestMemoryMap): Range[] {
  const out: Range[] = [];
  for (const p of classify(map)) {
    if (p.type !== 'ram') continue;
    const last = out[out.length - 1];
    if (last && last.end === p.start) last.end = p.end;
    else out.push({ start: p.start, end: p.end });
  }
  return out;
}

/** True when [start, end) lies wholly inside one usable RAM range. */
export function inUsableRam(ram: readonly Range[], start: number, end: number): boolean {
  return ram.some((r) => start >= r.start && end <= r.end);
}

export function overlaps(a: Range, b: Range): boolean {
  return a.start < b.end && b.start < a.end;
}

export function describeRanges(ram: readonly Range[]): string {
  return ram.length === 0 ? 'none' : ram.map((r) => `${hex(r.start)}..${hex(r.end)}`).join(', ');
}

interface Piece { start: number; end: number; type: MemoryType }

/** Cuts the map at every region boundary and gives each elementary piece its winning type. */
function classify(map: GuestMemoryMap): Piece[] {
  if (!map || !Array.isArray(map.regions) || map.regions.length === 0) {
    throw new VmmError('EINVAL', 'guest memory map has no regions');
  }
  map.regions.forEach(checkRegion);
  const cuts = [...new Set(map.regions.flatMap((r) => [r.gpa, r.gpa + r.size]))].sort((a, b) => a - b);
  const pieces: Piece[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i]!, end = cuts[i + 1]!;
    let type: MemoryType | undefined;
    for (const r of map.regions) {
      if (r.gpa >= end || r.gpa + r.size <= start) continue;
      if (type === undefined || type === 'ram') type = r.type;
      else if (r.type !== 'ram' && r.type !== type) {
        throw new VmmError('EINVAL', `guest memory map marks ${hex(start)}..${hex(end)} both ${type} and ${r.type}`);
      }
    }
    if (type !== undefined) pieces.push({ start, end, type });
  }
  return pieces;
}

function checkRegion(r: MemoryRegion, i: number): void {
  if (!(r.type in E820_TYPE)) {
    throw new VmmError('EINVAL', `guest memory region ${i} has type ${String(r.type)}; expected ram, reserved, acpi or nvs`);
  }
  if (!Number.isSafeInteger(r.gpa) || r.gpa < 0 || !Number.isSafeInteger(r.size) || r.size <= 0 || r.gpa + r.size > MAX_GPA) {
    throw new VmmError('EINVAL', `guest memory region ${i} (${r.type}) at ${hex(r.gpa)} size ${hex(r.size)} is not a non-empty range below 2^52`);
  }
}
