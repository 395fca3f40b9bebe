/** Reading built tables back as an OS would: by guest-physical address, little-endian, checksummed. */
import type { AcpiTables } from '../../src/vmm/loader/acpi/tables.js';

export class GuestTables {
  constructor(readonly t: AcpiTables) {}

  private at(gpa: number, size: number): DataView {
    const off = gpa - this.t.gpa;
    if (off < 0 || off + size > this.t.bytes.length) throw new Error(`read ${size} bytes at 0x${gpa.toString(16)} is outside the tables`);
    return new DataView(this.t.bytes.buffer, this.t.bytes.byteOffset + off, size);
  }
  u8(gpa: number): number { return this.at(gpa, 1).getUint8(0); }
  u16(gpa: number): number { return this.at(gpa, 2).getUint16(0, true); }
  u32(gpa: number): number { return this.at(gpa, 4).getUint32(0, true); }
  u64(gpa: number): number { return Number(this.at(gpa, 8).getBigUint64(0, true)); }
  ascii(gpa: number, n: number): string {
    return String.fromCharCode(...new Uint8Array(this.at(gpa, n).buffer, this.at(gpa, n).byteOffset, n));
  }
  sum(gpa: number, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s = (s + this.u8(gpa + i)) & 0xff;
    return s;
  }
  /** An SDT at gpa: signature, length, and whether its checksum holds. */
  sdt(gpa: number): { signature: string; length: number; checksumOk: boolean } {
    const length = this.u32(gpa + 4);
    return { signature: this.ascii(gpa, 4), length, checksumOk: this.sum(gpa, length) === 0 };
  }
  /** The XSDT's table addresses, from the RSDP. */
  xsdtEntries(): number[] {
    const xsdt = this.u64(this.t.rsdpGpa + 24);
    const n = (this.u32(xsdt + 4) - 36) / 8;
    return Array.from({ length: n }, (_, i) => this.u64(xsdt + 36 + 8 * i));
  }
  /** The table with this signature, found through RSDP -> XSDT (-> FADT for DSDT and FACS). */
  find(signature: string): number | undefined {
    for (const gpa of this.xsdtEntries()) if (this.ascii(gpa, 4) === signature) return gpa;
    const fadt = this.find('FACP');
    if (fadt === undefined) return undefined;
    if (signature === 'DSDT') return this.u64(fadt + 140);
    if (signature === 'FACS') return this.u64(fadt + 132);
    return undefined;
  }
}

/** Fields of an iasl data-table disassembly: "[off dec len] Name : Value" lines, in order. */
export function dslFields(dsl: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const line of dsl.split('\n')) {
    const m = /^(?:\[[0-9A-F]+h \d+ +\d+\])? *(.+?) : (.*)$/.exec(line);
    if (m) out.push({ name: m[1]!.trim(), value: m[2]!.trim() });
  }
  return out;
}

/** The values of every field called `name`. */
export function fieldValues(dsl: string, name: string): string[] {
  return dslFields(dsl).filter((f) => f.name === name).map((f) => f.value);
}
