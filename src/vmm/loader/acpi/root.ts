/**
 * The root of the tables: the RSDP (revision 2, 36 bytes, pointing at the XSDT only: every table
 * here lies below 4 GiB but ACPI 2.0+ OSes use the XSDT) and the XSDT listing the tables by 64-bit
 * address. The RSDP has two checksums: over its first 20 bytes (the ACPI 1.0 part) and over all 36.
 */
import { OEM_ID, TableWriter, fixChecksum, sdt } from './sdt.js';

export const RSDP_LENGTH = 36;

export function buildRsdp(xsdtGpa: number): Uint8Array {
  const w = new TableWriter(RSDP_LENGTH);
  w.ascii(0, 'RSD PTR ', 8);
  w.ascii(9, OEM_ID, 6);
  w.u8(15, 2);
  w.u32(16, 0); // no RSDT
  w.u32(20, RSDP_LENGTH);
  w.u64(24, xsdtGpa);
  fixChecksum(w.bytes, 8, 0, 20);
  fixChecksum(w.bytes, 32, 0, RSDP_LENGTH);
  return w.bytes;
}

export function xsdtLength(entries: number): number {
  return 36 + 8 * entries;
}

export function buildXsdt(tableGpas: readonly number[]): Uint8Array {
  const w = new TableWriter(8 * tableGpas.length);
  tableGpas.forEach((gpa, i) => w.u64(8 * i, gpa));
  return sdt('XSDT', 1, w.bytes);
}
