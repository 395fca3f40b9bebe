/**
 * One function's configuration space: the bytes the guest reads, and per-bit masks saying what a
 * guest write may change (writable) and what it clears by writing 1 (RW1C). Every register's
 * behaviour is data in these masks: read-only IDs have no writable bits, a BAR's writable bits are
 * exactly the address bits its size allows (which is what makes the sizing protocol work), and
 * status error bits are RW1C. Functions with side effects on a write (BARs moving, MSI-X unmask)
 * look at the bytes after the masks have been applied.
 */
import { VmmError, hex } from '../../../api/errors.js';
import { PCI_CONFIG_SIZE, PCIE_CONFIG_SIZE } from './registers.js';

export class PciConfigSpace {
  readonly bytes: Uint8Array;
  private readonly writable: Uint8Array;
  private readonly clearOnWrite: Uint8Array;

  constructor(readonly size: typeof PCI_CONFIG_SIZE | typeof PCIE_CONFIG_SIZE = PCI_CONFIG_SIZE) {
    this.bytes = new Uint8Array(size);
    this.writable = new Uint8Array(size);
    this.clearOnWrite = new Uint8Array(size);
  }

  /** Guest read of 1, 2 or 4 bytes (little-endian), not crossing the end of the space. */
  read(offset: number, length: number): number {
    this.check(offset, length);
    let v = 0;
    for (let i = length - 1; i >= 0; i--) v = (v * 256) + this.bytes[offset + i]!;
    return v;
  }

  /** Guest write: only writable bits change, RW1C bits written as 1 are cleared. */
  write(offset: number, length: number, value: number): void {
    this.check(offset, length);
    for (let i = 0; i < length; i++) {
      const b = (value >>> (8 * i)) & 0xff, at = offset + i;
      const w = this.writable[at]!, c = this.clearOnWrite[at]!;
      this.bytes[at] = ((this.bytes[at]! & ~w) | (b & w)) & ~(b & c);
    }
  }

  // Device-side setup and updates: these bypass the masks.
  set8(offset: number, value: number): void { this.setN(offset, 1, value); }
  set16(offset: number, value: number): void { this.setN(offset, 2, value); }
  set32(offset: number, value: number): void { this.setN(offset, 4, value); }
  get8(offset: number): number { return this.bytes[offset]!; }
  get16(offset: number): number { return this.bytes[offset]! | (this.bytes[offset + 1]! << 8); }
  get32(offset: number): number { return this.read(offset, 4); }

  /** Which bits of the length-byte register at offset the guest may write. */
  setWritable(offset: number, length: number, mask: number): void {
    this.setMask(this.writable, offset, length, mask);
  }

  /** Which bits of the register at offset are cleared by writing 1 (they must not be writable). */
  setClearOnWrite(offset: number, length: number, mask: number): void {
    this.setMask(this.clearOnWrite, offset, length, mask);
  }

  private setN(offset: number, length: number, value: number): void {
    this.check(offset, length);
    for (let i = 0; i < length; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  private setMask(mask: Uint8Array, offset: number, length: number, value: number): void {
    this.check(offset, length);
    for (let i = 0; i < length; i++) mask[offset + i] = (value >>> (8 * i)) & 0xff;
  }

  private check(offset: number, length: number): void {
    if (!(length === 1 || length === 2 || length === 4) || !Number.isInteger(offset) || offset < 0 || offset + length > this.size) {
      throw new VmmError('EINVAL', `config space access of ${length} bytes at ${hex(offset)} is outside the ${this.size}-byte space or not 1, 2 or 4 bytes`);
    }
  }
}
