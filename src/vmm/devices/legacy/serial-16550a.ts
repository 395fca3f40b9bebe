/**
 * A National Semiconductor 16550A UART as found at COM1 (0x3f8, IRQ4) of a PC, the device behind
 * Linux's console=ttyS0. Register-level behaviour follows the PC16550D data sheet and what Linux's
 * 8250 driver probes for (autoconfig: IER read-back, the loopback test reading MSR = 0x90 with
 * MCR = 0x1a, FIFO detection through IIR bits 7:6, no EFR/XScale/16750 extras; startup's THRE test:
 * enabling ETBEI with the transmitter empty raises the THRE interrupt, and reading IIR clears it).
 *
 * Transmission is instantaneous: a byte written to THR goes straight to the host's sink (or, in
 * loopback, to the receiver), so LSR always shows THRE and TEMT and no written byte is ever lost.
 * Reception takes bytes from a bounded host-side queue into the 16-byte receive FIFO as room frees,
 * losslessly (like hardware flow control); overrun happens only in loopback, where the guest feeds
 * itself faster than it reads. The character timeout runs on the Clock: four character times at the
 * programmed baud rate and frame after the last FIFO activity (poll(now) reports it).
 *
 * Interrupt output: the INTRPT pin goes to the IRQ line through MCR OUT2, as on every PC (and OUT2 is
 * forced off in loopback, so no IRQ there either). Host modem inputs are fixed: CTS, DSR and DCD
 * asserted, RI not. Break and parity/framing errors never occur on this virtual line.
 */
import type { BusDevice } from '../../bus.js';
import type { Clock } from '../../bus/clock.js';
import type { InterruptLine } from '../../bus/interrupt-line.js';
import { readByBytes, writeByBytes } from './byte-access.js';

export const UART_REG = { RBR_THR: 0, IER: 1, IIR_FCR: 2, LCR: 3, MCR: 4, LSR: 5, MSR: 6, SCR: 7 } as const;
export const UART_PORT_COUNT = 8;

const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
const IIR_NO_INT = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06, IIR_TIMEOUT = 0x0c, IIR_FIFOS = 0xc0;
const FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_ERRORS = 0x1e;
const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;
/** Receive FIFO trigger levels by FCR bits 7:6. */
const RX_TRIGGER = [1, 4, 8, 14] as const;
const FIFO_SIZE = 16;
/** The PC's UART clock: 1.8432 MHz / 16. */
const UART_BASE_BAUD = 115200;

export interface Serial16550aOptions {
  /** Called with each byte the guest transmits, in order. */
  output: (byte: number) => void;
  /** The interrupt line (COM1: ISA IRQ4, edge-triggered through the PIC/IOAPIC). */
  irq: InterruptLine;
  /** Time for the character timeout interrupt. */
  clock: Clock;
  /** Host bytes held for the guest beyond its FIFO (default 4096); receive() refuses past that. */
  hostQueueLimit?: number;
  /** Called when the host queue had been full and has room again. */
  onInputRoom?: () => void;
}

export class Serial16550a implements BusDevice {
  readonly name = 'serial-16550a';
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsr = LSR_THRE | LSR_TEMT;
  private msrDeltas = 0;
  private scr = 0;
  /** Divisor 12 = 9600 baud, what PC firmware leaves. */
  private divisor = 12;
  private fifoEnabled = false;
  private rxTrigger = 1;
  private rxFifo: number[] = [];
  private thrInterrupt = false;
  private timeoutInterrupt = false;
  /** When the receive FIFO last changed (read or filled): the character timeout counts from here. */
  private rxActivityNs = 0;
  private irqLevel = false;
  private hostQueue: number[] = [];
  private hostQueueHead = 0;
  private hostQueueWasFull = false;
  private readonly hostQueueLimit: number;
  private lastModemInputs: number;

  constructor(private readonly opts: Serial16550aOptions) {
    this.hostQueueLimit = opts.hostQueueLimit ?? 4096;
    this.lastModemInputs = this.modemInputs();
  }

  /** Bytes the guest can be given now without refusal. */
  get inputRoom(): number {
    return this.hostQueueLimit - (this.hostQueue.length - this.hostQueueHead);
  }

  /**
   * Host input for the guest: as many bytes as fit are taken (the count is returned); the rest must
   * be offered again later (onInputRoom says when).
   */
  receive(bytes: Uint8Array): number {
    let taken = 0;
    // Fill the FIFO first, then the queue up to its limit.
    for (let room = this.inputRoom; room > 0 && taken < bytes.length; room = this.inputRoom) {
      const end = Math.min(bytes.length, taken + room);
      for (; taken < end; taken++) this.hostQueue.push(bytes[taken]!);
      if (!this.fillRxFifo()) break;
    }
    if (taken < bytes.length) this.hostQueueWasFull = true;
    this.updateIrq();
    return taken;
  }

  private rxCapacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  /** Moves host bytes into the receive FIFO while it has room (not in loopback: the line is cut). */
  private fillRxFifo(): boolean {
    if (this.mcr & MCR_LOOP) return false;
    let moved = false;
    while (this.hostQueueHead < this.hostQueue.length && this.rxFifo.length < this.rxCapacity()) {
      this.rxFifo.push(this.hostQueue[this.hostQueueHead++]!);
      moved = true;
    }
    if (this.hostQueueHead > 1024 && this.hostQueueHead * 2 > this.hostQueue.length) {
      this.hostQueue = this.hostQueue.slice(this.hostQueueHead);
      this.hostQueueHead = 0;
    }
    if (moved) this.rxActivity();
    return moved;
  }

  /** After the guest took bytes: tells a host that was refused that there is room again. */
  private signalRoom(): void {
    if (this.hostQueueWasFull && this.inputRoom > 0) {
      this.hostQueueWasFull = false;
      this.opts.onInputRoom?.();
    }
  }

  private rxActivity(): void {
    this.rxActivityNs = this.opts.clock.now();
    this.timeoutInterrupt = false;
  }

  /** A byte arriving at the receiver from the line (loopback): overrun when the FIFO is full. */
  private lineReceive(byte: number): void {
    if (this.rxFifo.length >= this.rxCapacity()) {
      this.lsr |= LSR_OE;
      return;
    }
    this.rxFifo.push(byte);
    this.rxActivity();
  }

  read(offset: number, data: Uint8Array): void {
    readByBytes(offset, data, (off) => this.readRegister(off));
    this.updateIrq();
    this.signalRoom();
  }

  write(offset: number, data: Uint8Array): void {
    writeByBytes(offset, data, (off, v) => this.writeRegister(off, v));
    this.updateIrq();
  }

  private readRegister(off: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (off) {
      case UART_REG.RBR_THR: {
        if (dlab) return this.divisor & 0xff;
        const byte = this.rxFifo.shift() ?? 0;
        this.rxActivity();
        this.fillRxFifo();
        return byte;
      }
      case UART_REG.IER: return dlab ? this.divisor >> 8 : this.ier;
      case UART_REG.IIR_FCR: {
        const id = this.interruptId();
        // Reading IIR while it reports THRE clears that interrupt.
        if (id === IIR_THRI) this.thrInterrupt = false;
        return id | (this.fifoEnabled ? IIR_FIFOS : 0);
      }
      case UART_REG.LCR: return this.lcr;
      case UART_REG.MCR: return this.mcr;
      case UART_REG.LSR: {
        const v = this.lsr | (this.rxFifo.length ? LSR_DR : 0);
        this.lsr &= ~(LSR_OE | LSR_ERRORS);
        return v;
      }
      case UART_REG.MSR: {
        this.noteModemChange();
        const v = this.modemInputs() | this.msrDeltas;
        this.msrDeltas = 0;
        return v;
      }
      default: return this.scr;
    }
  }

  private writeRegister(off: number, v: number): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (off) {
      case UART_REG.RBR_THR:
        if (dlab) { this.divisor = (this.divisor & 0xff00) | v; return; }
        this.transmit(v);
        return;
      case UART_REG.IER: {
        if (dlab) { this.divisor = (this.divisor & 0xff) | v << 8; return; }
        const enabling = v & ~this.ier;
        this.ier = v & 0x0f;
        // ETBEI going on with the holding register empty is itself a THRE interrupt.
        if (enabling & IER_THRI && this.lsr & LSR_THRE) this.thrInterrupt = true;
        return;
      }
      case UART_REG.IIR_FCR: return this.writeFcr(v);
      case UART_REG.LCR: this.lcr = v; return;
      case UART_REG.MCR: {
        const wasLoop = this.mcr & MCR_LOOP;
        this.mcr = v & 0x1f;
        this.noteModemChange();
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.fillRxFifo();
        return;
      }
      case UART_REG.LSR: case UART_REG.MSR: return; // read-only (factory test registers on silicon)
      default: this.scr = v;
    }
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) this.lineReceive(byte);
    else this.opts.output(byte);
    // The byte left THR at once: THR is empty again, which is a new THRE interrupt when enabled.
    this.thrInterrupt = (this.ier & IER_THRI) !== 0;
  }

  private writeFcr(v: number): void {
    const enable = (v & FCR_ENABLE) !== 0;
    // Changing the FIFO enable clears both FIFOs (the transmit FIFO is always empty here).
    if (enable !== this.fifoEnabled || v & FCR_CLEAR_RX) {
      this.rxFifo = [];
      this.timeoutInterrupt = false;
    }
    this.fifoEnabled = enable;
    this.rxTrigger = RX_TRIGGER[v >> 6]!;
    this.fillRxFifo();
  }

  /** CTS, DSR, RI, DCD: from MCR in loopback, else the fixed host side. */
  private modemInputs(): number {
    if (this.mcr & MCR_LOOP) {
      return (this.mcr & MCR_RTS ? MSR_CTS : 0) | (this.mcr & MCR_DTR ? MSR_DSR : 0)
        | (this.mcr & MCR_OUT1 ? MSR_RI : 0) | (this.mcr & MCR_OUT2 ? MSR_DCD : 0);
    }
    return MSR_CTS | MSR_DSR | MSR_DCD;
  }

  /** Sets the MSR delta bits for modem inputs that changed (TERI: only on RI's trailing edge). */
  private noteModemChange(): void {
    const now = this.modemInputs(), changed = now ^ this.lastModemInputs;
    if (changed & MSR_CTS) this.msrDeltas |= 0x01;
    if (changed & MSR_DSR) this.msrDeltas |= 0x02;
    if (changed & MSR_RI && !(now & MSR_RI)) this.msrDeltas |= 0x04;
    if (changed & MSR_DCD) this.msrDeltas |= 0x08;
    this.lastModemInputs = now;
  }

  /** IIR bits 3:0 by priority: line status, received data, character timeout, THRE, modem status. */
  private interruptId(): number {
    if (this.ier & IER_RLSI && this.lsr & (LSR_OE | LSR_ERRORS)) return IIR_RLSI;
    if (this.ier & IER_RDI) {
      if (this.rxFifo.length >= (this.fifoEnabled ? this.rxTrigger : 1)) return IIR_RDI;
      if (this.timeoutInterrupt) return IIR_TIMEOUT;
    }
    if (this.ier & IER_THRI && this.thrInterrupt) return IIR_THRI;
    if (this.ier & IER_MSI && this.msrDeltas) return IIR_MSI;
    return IIR_NO_INT;
  }

  private updateIrq(): void {
    const gated = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    const level = gated && this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.opts.irq.set(level);
    }
  }

  /** Four character times (start + data + parity + stop bits at the programmed baud) in ns. */
  private timeoutNs(): number {
    const dataBits = 5 + (this.lcr & 3), parity = this.lcr & 0x08 ? 1 : 0;
    const stopBits = this.lcr & 0x04 ? (dataBits === 5 ? 1.5 : 2) : 1;
    const baud = UART_BASE_BAUD / (this.divisor || 0x10000);
    return (4 * (1 + dataBits + parity + stopBits) * 1e9) / baud;
  }

  /** Raises the character timeout when due; returns when it will be due, or Infinity. */
  poll(now: number): number {
    if (!this.fifoEnabled || this.rxFifo.length === 0 || this.timeoutInterrupt) return Infinity;
    const due = this.rxActivityNs + this.timeoutNs();
    if (now < due) return due;
    this.timeoutInterrupt = true;
    this.updateIrq();
    return Infinity;
  }
}
