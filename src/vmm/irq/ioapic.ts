/**
 * An I/O APIC as the Intel 82093AA data sheet describes it, at version 0x20 (the one QEMU models, with
 * the EOI register of the later chipset I/O APICs): 24 input pins, the IOREGSEL/IOWIN window at
 * offsets 0x00/0x10 of its 4 KiB MMIO page (0xfec00000 on a PC), the EOI register at 0x40, and a
 * redirection table entry per pin (vector, delivery mode, destination mode and field, polarity,
 * trigger mode, mask, remote IRR, delivery status).
 *
 * What leaves the I/O APIC is an interrupt message handed to deliver(); the monitor turns it into
 * delivery to local APICs. Level-triggered pins set remote IRR when delivered and are not delivered
 * again until an EOI for their vector (endOfInterrupt(), which the monitor calls on a LAPIC EOI
 * broadcast, or a write to the EOI register); an EOI with the line still asserted delivers again.
 * Edges on a masked pin are lost, and level changes on a masked pin have no effect until it is
 * unmasked (82093AA, "Interrupt Mask"). Delivery is immediate, so delivery status always reads idle.
 *
 * Wires carry the asserted state (true = asserted), whatever the electrical polarity: the polarity bit
 * is kept and read back but does not invert the input, as in QEMU; the board's firmware tables tell the
 * OS which polarity each wire has, and the OS programs it to match.
 */
import { VmmError, hex } from '../../api/errors.js';
import type { BusDevice } from '../bus.js';
import type { InterruptLine } from '../bus/interrupt-line.js';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_MMIO_SIZE = 0x1000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x20;

const IOREGSEL = 0x00, IOWIN = 0x10, IOEOI = 0x40;
const REG_ID = 0x00, REG_VERSION = 0x01, REG_ARBITRATION = 0x02, REG_REDIR = 0x10;

/** Delivery modes by the 3-bit field (bits 10:8); 3 and 6 are reserved. */
const DELIVERY_MODES = ['fixed', 'lowest-priority', 'smi', undefined, 'nmi', 'init', undefined, 'extint'] as const;
export type IoApicDeliveryMode = NonNullable<(typeof DELIVERY_MODES)[number]>;

/** An interrupt message from the I/O APIC to the local APICs. */
export interface IoApicMessage {
  /** The pin (GSI) that raised it. */
  pin: number;
  vector: number;
  deliveryMode: IoApicDeliveryMode;
  /** Physical: destination is an APIC id; logical: a logical destination (MDA). */
  destinationMode: 'physical' | 'logical';
  destination: number;
  trigger: 'edge' | 'level';
}

/** Redirection entry bits. */
const RTE_DEST_LOGICAL = 1n << 11n, RTE_POLARITY_LOW = 1n << 13n, RTE_REMOTE_IRR = 1n << 14n;
const RTE_LEVEL = 1n << 15n, RTE_MASKED = 1n << 16n;
/** Bits the guest can write: all but delivery status (12) and remote IRR (14); 17-55 are reserved. */
const RTE_WRITABLE = 0xff000000_0001afffn;

export class IoApic implements BusDevice {
  readonly name = 'ioapic';
  private id = 0;
  private select = 0;
  private readonly table: bigint[] = new Array<bigint>(IOAPIC_PINS).fill(RTE_MASKED);
  private readonly levels: boolean[] = new Array<boolean>(IOAPIC_PINS).fill(false);
  private readonly lines: InterruptLine[] = [];

  constructor(private readonly deliver: (message: IoApicMessage) => void) {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      this.lines.push({
        set: (level) => this.setPin(pin, level),
        pulse: () => { this.setPin(pin, true); this.setPin(pin, false); },
      });
    }
  }

  /** The wire into pin (GSI) 0..23. */
  input(pin: number): InterruptLine {
    const line = Number.isInteger(pin) ? this.lines[pin] : undefined;
    if (!line) throw new VmmError('EINVAL', `I/O APIC pin must be 0..${IOAPIC_PINS - 1}, got ${pin}`);
    return line;
  }

  /** The redirection entry of pin as the guest reads it (for the monitor's diagnostics and tests). */
  entry(pin: number): bigint {
    return this.table[pin] ?? 0n;
  }

  private setPin(pin: number, level: boolean): void {
    const was = this.levels[pin];
    this.levels[pin] = level;
    const rte = this.table[pin]!;
    if (rte & RTE_MASKED) return;
    if (rte & RTE_LEVEL) this.serviceLevel(pin);
    else if (level && !was) this.send(pin);
  }

  /** A level pin delivers while asserted, unmasked and not awaiting its EOI. */
  private serviceLevel(pin: number): void {
    const rte = this.table[pin]!;
    if (!this.levels[pin] || rte & RTE_MASKED || !(rte & RTE_LEVEL) || rte & RTE_REMOTE_IRR) return;
    this.table[pin] = rte | RTE_REMOTE_IRR;
    this.send(pin);
  }

  private send(pin: number): void {
    const rte = this.table[pin]!;
    const low = Number(rte & 0xffffffffn);
    const mode = DELIVERY_MODES[(low >> 8) & 7];
    if (!mode) {
      throw new VmmError('EINVAL', `I/O APIC pin ${pin} is programmed with reserved delivery mode ${(low >> 8) & 7} (redirection entry ${hex(rte)})`);
    }
    this.deliver({
      pin,
      vector: low & 0xff,
      deliveryMode: mode,
      destinationMode: rte & RTE_DEST_LOGICAL ? 'logical' : 'physical',
      destination: Number(rte >> 56n),
      trigger: rte & RTE_LEVEL ? 'level' : 'edge',
    });
  }

  /** An EOI for vector (LAPIC EOI broadcast or the EOI register): clears remote IRR of matching level pins. */
  endOfInterrupt(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const rte = this.table[pin]!;
      if (!(rte & RTE_REMOTE_IRR) || Number(rte & 0xffn) !== (vector & 0xff)) continue;
      this.table[pin] = rte & ~RTE_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  read(offset: number, data: Uint8Array): void {
    if (offset === IOREGSEL && data.length <= 4) {
      data.fill(0);
      data[0] = this.select;
      return;
    }
    const view = this.dword(offset, data, 'read');
    view.setUint32(0, offset === IOWIN ? this.readRegister(this.select) : 0, true);
  }

  write(offset: number, data: Uint8Array): void {
    if (offset === IOREGSEL && data.length <= 4) {
      this.select = data[0]!;
      return;
    }
    const value = this.dword(offset, data, 'write').getUint32(0, true);
    if (offset === IOWIN) this.writeRegister(this.select, value);
    else if (offset === IOEOI) this.endOfInterrupt(value & 0xff);
    // Other offsets of the page decode to nothing on the chip: writes there are dropped.
  }

  /** IOWIN and EOI are 32-bit registers; the data sheet allows only aligned dword accesses to them. */
  private dword(offset: number, data: Uint8Array, what: string): DataView {
    if (data.length !== 4 || offset % 4 !== 0) {
      throw new VmmError('EINVAL', `I/O APIC ${what} of ${data.length} bytes at offset ${hex(offset)}: only aligned 32-bit accesses are supported there`);
    }
    return new DataView(data.buffer, data.byteOffset, 4);
  }

  private readRegister(index: number): number {
    if (index === REG_ID) return this.id << 24;
    if (index === REG_VERSION) return ((IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION) >>> 0;
    if (index === REG_ARBITRATION) return this.id << 24;
    const pin = this.pinOf(index);
    if (pin < 0) return 0;
    const rte = this.table[pin]!;
    return Number(index & 1 ? rte >> 32n : rte & 0xffffffffn) >>> 0;
  }

  private writeRegister(index: number, value: number): void {
    if (index === REG_ID) { this.id = (value >>> 24) & 0x0f; return; }
    const pin = this.pinOf(index);
    if (pin < 0) return; // version, arbitration and unimplemented registers are read-only
    const old = this.table[pin]!;
    const v = BigInt(value >>> 0);
    let rte = index & 1 ? (old & 0xffffffffn) | v << 32n : (old & ~0xffffffffn) | v;
    rte = (rte & RTE_WRITABLE) | (old & RTE_REMOTE_IRR);
    // Remote IRR means nothing for an edge pin; Linux clears a stuck one by switching to edge and back.
    if (!(rte & RTE_LEVEL)) rte &= ~RTE_REMOTE_IRR;
    this.table[pin] = rte;
    this.serviceLevel(pin);
  }

  private pinOf(index: number): number {
    const pin = (index - REG_REDIR) >> 1;
    return index >= REG_REDIR && pin < IOAPIC_PINS ? pin : -1;
  }

  /** Whether pin's polarity bit says active low (kept for the guest; see the header). */
  activeLow(pin: number): boolean {
    return ((this.table[pin] ?? 0n) & RTE_POLARITY_LOW) !== 0n;
  }
}
