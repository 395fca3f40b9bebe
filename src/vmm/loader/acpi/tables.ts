/**
 * buildAcpiTables: every table the guest needs, laid out in one run of guest-physical memory.
 *
 *   gpa + 0      RSDP (16-byte aligned: Linux finds it by scanning 0xE0000-0xFFFFF on 16-byte
 *                boundaries, or the loader passes rsdpGpa in boot_params.acpi_rsdp_addr)
 *   then         XSDT, FADT, MADT, MCFG (with ECAM), FACS (64-byte aligned), DSDT
 *
 * The caller copies `bytes` to `gpa` in guest RAM and keeps that range out of the usable e820
 * memory (0xE0000-0xFFFFF is the BIOS area Linux reserves anyway; elsewhere mark it ACPI/reserved).
 */
import { VmmError, hex } from '../../../api/errors.js';
import { buildDsdt } from './dsdt.js';
import { FACS_LENGTH, FADT_LENGTH, buildFacs, buildFadt } from './fadt.js';
import { buildMadt } from './madt.js';
import { buildMcfg } from './mcfg.js';
import { resolveAcpiOptions, type AcpiOptions, type ResolvedAcpiOptions } from './options.js';
import { RSDP_LENGTH, buildRsdp, buildXsdt, xsdtLength } from './root.js';

export interface AcpiTable {
  /** "RSD PTR " for the RSDP, else the 4-character table signature. */
  signature: string;
  gpa: number;
  bytes: Uint8Array;
}

export interface AcpiTables {
  /** Where `bytes` go in guest-physical memory. */
  gpa: number;
  bytes: Uint8Array;
  /** The RSDP's address, for boot_params.acpi_rsdp_addr. */
  rsdpGpa: number;
  /** Each table, at its address (views into `bytes`). */
  tables: AcpiTable[];
  /** The options as resolved (defaults filled), so the monitor wires devices the same way. */
  options: ResolvedAcpiOptions;
}

const TABLE_ALIGN = 16;
const FACS_ALIGN = 64;

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

export function buildAcpiTables(opts: AcpiOptions): AcpiTables {
  const o = resolveAcpiOptions(opts);
  const madt = buildMadt(o);
  const mcfg = o.pci.ecam && buildMcfg(o.pci.ecam);
  const dsdt = buildDsdt(o);
  const facs = buildFacs();

  // Addresses first (sizes are known without them), then the tables that point at others.
  let at = o.gpa;
  const place = (size: number, align = TABLE_ALIGN): number => {
    const gpa = alignUp(at, align);
    at = gpa + size;
    return gpa;
  };
  const xsdtEntries = mcfg ? 3 : 2;
  const rsdpGpa = place(RSDP_LENGTH);
  const xsdtGpa = place(xsdtLength(xsdtEntries));
  const fadtGpa = place(FADT_LENGTH);
  const madtGpa = place(madt.length);
  const mcfgGpa = mcfg ? place(mcfg.length) : 0;
  const facsGpa = place(FACS_LENGTH, FACS_ALIGN);
  const dsdtGpa = place(dsdt.length);
  const total = at - o.gpa;
  if (total > o.limit) {
    throw new VmmError('E2BIG', `ACPI tables need ${total} bytes at ${hex(o.gpa)}, only ${o.limit} are available`);
  }

  const fadt = buildFadt(o, dsdtGpa, facsGpa);
  const xsdt = buildXsdt(mcfg ? [fadtGpa, madtGpa, mcfgGpa] : [fadtGpa, madtGpa]);
  const rsdp = buildRsdp(xsdtGpa);

  const bytes = new Uint8Array(total);
  const tables: AcpiTable[] = [];
  const put = (signature: string, gpa: number, t: Uint8Array): void => {
    bytes.set(t, gpa - o.gpa);
    tables.push({ signature, gpa, bytes: bytes.subarray(gpa - o.gpa, gpa - o.gpa + t.length) });
  };
  put('RSD PTR ', rsdpGpa, rsdp);
  put('XSDT', xsdtGpa, xsdt);
  put('FACP', fadtGpa, fadt);
  put('APIC', madtGpa, madt);
  if (mcfg) put('MCFG', mcfgGpa, mcfg);
  put('FACS', facsGpa, facs);
  put('DSDT', dsdtGpa, dsdt);
  return { gpa: o.gpa, bytes, rsdpGpa, tables, options: o };
}
