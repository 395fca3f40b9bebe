/**
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the capability in configuration space, the vector table and
 * the pending bit array in a BAR, and delivery to an MsiSink. A vector fires only while MSI-X is
 * enabled and neither the function mask nor the vector's own mask is set; a masked vector's
 * message is remembered in its pending bit and sent as soon as it is unmasked.
 */
import { VmmError } from '../../../api/errors.js';
import type { MsiSink } from '../interrupt-line.js';
import type { BarHandler, PciFunction } from './function.js';
import { PCI_CAP_ID } from './registers.js';

const ENTRY_SIZE = 16;
const CONTROL_ENABLE = 0x8000, CONTROL_FUNCTION_MASK = 0x4000;
const VECTOR_MASKED = 1;
/** Offsets in a table entry. */
const ENTRY = { ADDRESS_LO: 0, ADDRESS_HI: 4, DATA: 8, CONTROL: 12 } as const;
/** The largest table the capability can describe (the size field is 11 bits). */
export const MSIX_MAX_VECTORS = 2048;

export interface MsixLayout {
  vectors: number;
  /** BAR holding the table, and its offset there (8-byte aligned). */
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export class MsixCapability {
  readonly capOffset: number;
  readonly vectors: number;
  /** The vector table as the guest programs it (16 bytes per vector, little-endian). */
  private readonly table: Uint8Array;
  private readonly pending: Uint8Array;
  /** Table access as a BAR handler: place it at layout.tableOffset in layout.tableBar. */
  readonly tableHandler: BarHandler;
  /** Pending bit array (read-only to the guest): place it at layout.pbaOffset in layout.pbaBar. */
  readonly pbaHandler: BarHandler;
  /** Messages sent, for diagnostics. */
  delivered = 0;

  constructor(private readonly fn: PciFunction, layout: MsixLayout, private readonly sink: MsiSink) {
    const n = layout.vectors;
    if (!Number.isInteger(n) || n < 1 || n > MSIX_MAX_VECTORS) throw new VmmError('EINVAL', `MSI-X vector count ${n} must be 1..${MSIX_MAX_VECTORS}`);
    if (layout.tableOffset % 8 || layout.pbaOffset % 8) throw new VmmError('EINVAL', 'MSI-X table and PBA offsets must be 8-byte aligned');
    this.vectors = n;
    this.table = new Uint8Array(n * ENTRY_SIZE);
    for (let v = 0; v < n; v++) this.table[v * ENTRY_SIZE + ENTRY.CONTROL] = VECTOR_MASKED;
    this.pending = new Uint8Array(Math.ceil(n / 64) * 8);

    const at = fn.addCapability(PCI_CAP_ID.MSIX, 12);
    this.capOffset = at;
    fn.config.set16(at + 2, n - 1);
    fn.config.setWritable(at + 2, 2, CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
    fn.config.set32(at + 4, (layout.tableOffset | layout.tableBar) >>> 0);
    fn.config.set32(at + 8, (layout.pbaOffset | layout.pbaBar) >>> 0);
    // Clearing either mask (or enabling) may release pending messages.
    fn.addConfigHook({ start: at + 2, end: at + 4, afterWrite: () => this.deliverPending() });

    this.tableHandler = {
      read: (offset, data) => this.copyOut(this.table, offset, data),
      write: (offset, data) => this.writeTable(offset, data),
    };
    this.pbaHandler = {
      read: (offset, data) => this.copyOut(this.pending, offset, data),
      write: () => { /* the PBA is read-only: writes have no effect (PCI 3.0, 6.8.2.10) */ },
    };
  }

  get tableSize(): number { return this.table.length; }
  get pbaSize(): number { return this.pending.length; }

  get enabled(): boolean {
    return (this.control() & CONTROL_ENABLE) !== 0;
  }

  get functionMasked(): boolean {
    return (this.control() & CONTROL_FUNCTION_MASK) !== 0;
  }

  vectorMasked(v: number): boolean {
    return (this.table[v * ENTRY_SIZE + ENTRY.CONTROL]! & VECTOR_MASKED) !== 0;
  }

  isPending(v: number): boolean {
    return (this.pending[v >> 3]! & (1 << (v & 7))) !== 0;
  }

  /**
   * Raises vector v. Returns false when MSI-X is disabled (the caller falls back to INTx).
   * A vector number beyond the table is the driver's misconfiguration: no message, like hardware.
   */
  notify(v: number): boolean {
    if (!this.enabled) return false;
    if (!Number.isInteger(v) || v < 0 || v >= this.vectors) return true;
    if (this.functionMasked || this.vectorMasked(v)) this.pending[v >> 3]! |= 1 << (v & 7);
    else this.send(v);
    return true;
  }

  private control(): number {
    return this.fn.config.get16(this.capOffset + 2);
  }

  private send(v: number): void {
    const e = v * ENTRY_SIZE;
    const lo = this.u32(e + ENTRY.ADDRESS_LO), hi = this.u32(e + ENTRY.ADDRESS_HI);
    this.delivered++;
    this.sink.signal(hi * 0x100000000 + lo, this.u32(e + ENTRY.DATA));
  }

  private deliverPending(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let v = 0; v < this.vectors; v++) {
      if (this.isPending(v) && !this.vectorMasked(v)) {
        this.pending[v >> 3]! &= ~(1 << (v & 7));
        this.send(v);
      }
    }
  }

  private writeTable(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.table.length) return; // outside the table: no register there
    for (let i = 0; i < data.length; i++) {
      const at = offset + i, field = at % ENTRY_SIZE;
      // Only the mask bit of Vector Control is writable; its other bits are reserved (0).
      this.table[at] = field === ENTRY.CONTROL ? data[i]! & VECTOR_MASKED : field > ENTRY.CONTROL ? 0 : data[i]!;
    }
    this.deliverPending();
  }

  private copyOut(src: Uint8Array, offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) data[i] = src[offset + i] ?? 0;
  }

  private u32(at: number): number {
    const t = this.table;
    return (t[at]! | (t[at + 1]! << 8) | (t[at + 2]! << 16) | (t[at + 3]! << 24)) >>> 0;
  }
}
