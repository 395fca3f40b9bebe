/**
 * The PC's 8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command), with a minimal
 * PS/2 keyboard on its first port and nothing on the AUX (mouse) port. Enough for Linux's i8042 and
 * atkbd probes to finish at once and cleanly: the flush, controller self-test (0xaa -> 0x55), the
 * command byte read/write, interface tests, the AUX loopback test with its IRQ12 delivery check (the
 * AUX port exists, no mouse answers), and the keyboard's reset, ID and setting commands. It is also
 * how a PC guest reboots: command 0xfe (pulse the reset line) or clearing output port bit 0 calls
 * onReset. The output port's bit 1 is the A20 gate (kept in a20).
 *
 * Responses queue in a small output buffer read through port 0x60; a keyboard byte raises IRQ1 and an
 * AUX byte IRQ12 when the command byte enables them, as the controller's OBF lines do. Bytes from the
 * keyboard are held while the command byte disables the keyboard interface. A byte sent to the absent
 * mouse comes back as 0xfe with the timeout bit, as a controller reports a device that never answers.
 * With translation on (command byte bit 6, as firmware leaves it), the keyboard ID 0xab 0x83 reads as
 * 0xab 0x41; no other keyboard response has a translation. Commands a controller does not implement
 * are dropped, as the chip drops them (ignoredCommands counts them).
 */
import type { BusDevice } from '../../bus.js';
import type { InterruptLine } from '../../bus/interrupt-line.js';
import { readByBytes, writeByBytes } from './byte-access.js';

const STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08, STATUS_UNLOCKED = 0x10, STATUS_AUXDATA = 0x20, STATUS_TIMEOUT = 0x40;
const CTR_KBDINT = 0x01, CTR_AUXINT = 0x02, CTR_SYS = 0x04, CTR_KBDDIS = 0x10, CTR_AUXDIS = 0x20, CTR_XLATE = 0x40;
const OUTPORT_RESET = 0x01, OUTPORT_A20 = 0x02;
const KBD_ACK = 0xfa, KBD_RESEND = 0xfe, KBD_BAT_OK = 0xaa;
/** How many bytes the output side holds (Linux's i8042_flush gives up after 16 as "no controller"). */
const OUTPUT_QUEUE_LIMIT = 16;

interface OutputByte { value: number; aux: boolean; timeout: boolean; fromKeyboard: boolean }

export interface I8042Options {
  /** IRQ1 (keyboard). */
  kbdIrq: InterruptLine;
  /** IRQ12 (AUX). */
  auxIrq: InterruptLine;
  /** The guest asked the controller to reset the CPU: the monitor ends the run as a reboot. */
  onReset: () => void;
}

export class I8042 {
  /** Place at I/O 0x60, size 1. */
  readonly dataPort: BusDevice = {
    name: 'i8042-data',
    read: (offset, data) => readByBytes(offset, data, () => this.readData()),
    write: (offset, data) => writeByBytes(offset, data, (_off, v) => this.writeData(v)),
  };
  /** Place at I/O 0x64, size 1: status on read, command on write. */
  readonly commandPort: BusDevice = {
    name: 'i8042-command',
    read: (offset, data) => readByBytes(offset, data, () => this.status()),
    write: (offset, data) => writeByBytes(offset, data, (_off, v) => this.writeCommand(v)),
  };
  /** Internal RAM; byte 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  private outputPort = OUTPORT_RESET | OUTPORT_A20;
  private output: OutputByte[] = [];
  private lastRead = 0;
  private lastWriteWasCommand = true;
  /** A controller command waiting for its data byte. */
  private pendingCommand: number | undefined;
  /** A keyboard command waiting for its parameter byte. */
  private keyboardParam: number | undefined;
  private kbdIrqLevel = false;
  private auxIrqLevel = false;
  ignoredCommands = 0;
  /** Bytes dropped because the output buffer was full. */
  droppedBytes = 0;

  constructor(private readonly opts: I8042Options) {
    // What PC firmware leaves: keyboard interrupt on, system flag, translation, AUX port disabled.
    this.ram[0] = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
  }

  get commandByte(): number {
    return this.ram[0]!;
  }

  get a20(): boolean {
    return (this.outputPort & OUTPORT_A20) !== 0;
  }

  /**
   * The index of the byte the guest reads next: keyboard bytes stay in the keyboard while its
   * interface is disabled, so controller replies pass them.
   */
  private headIndex(): number {
    const held = (this.ram[0]! & CTR_KBDDIS) !== 0;
    return this.output.findIndex((b) => !(held && b.fromKeyboard));
  }

  private head(): OutputByte | undefined {
    const i = this.headIndex();
    return i < 0 ? undefined : this.output[i];
  }

  private status(): number {
    const head = this.head();
    let s = STATUS_UNLOCKED | (this.ram[0]! & CTR_SYS ? STATUS_SYS : 0) | (this.lastWriteWasCommand ? STATUS_CMD : 0);
    if (head) s |= STATUS_OBF | (head.aux ? STATUS_AUXDATA : 0) | (head.timeout ? STATUS_TIMEOUT : 0);
    return s;
  }

  private readData(): number {
    const i = this.headIndex();
    const head = i < 0 ? undefined : this.output[i];
    if (head) {
      this.output.splice(i, 1);
      this.lastRead = head.value;
      // OBF drops when the byte is read: a following byte is a new edge on its IRQ.
      this.setIrqs(false, false);
    }
    this.updateIrqs();
    return this.lastRead;
  }

  private push(value: number, source: 'controller' | 'keyboard' | 'aux', timeout = false): void {
    if (this.output.length >= OUTPUT_QUEUE_LIMIT) this.droppedBytes++;
    else this.output.push({ value: value & 0xff, aux: source === 'aux', timeout, fromKeyboard: source === 'keyboard' });
    this.updateIrqs();
  }

  private updateIrqs(): void {
    const head = this.head(), ctr = this.ram[0]!;
    this.setIrqs(!!head && !head.aux && (ctr & CTR_KBDINT) !== 0, !!head && head.aux && (ctr & CTR_AUXINT) !== 0);
  }

  private setIrqs(kbd: boolean, aux: boolean): void {
    if (kbd !== this.kbdIrqLevel) { this.kbdIrqLevel = kbd; this.opts.kbdIrq.set(kbd); }
    if (aux !== this.auxIrqLevel) { this.auxIrqLevel = aux; this.opts.auxIrq.set(aux); }
  }

  private writeCommand(cmd: number): void {
    this.lastWriteWasCommand = true;
    this.pendingCommand = undefined;
    if (cmd >= 0x20 && cmd <= 0x3f) return this.push(this.ram[cmd & 0x1f]!, 'controller');
    if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
      this.pendingCommand = cmd;
      return;
    }
    if (cmd >= 0xf0) {
      // Pulse output port bits 3:0 low where the command's bit is 0; bit 0 is the CPU reset line.
      if (!(cmd & 1)) this.opts.onReset();
      return;
    }
    switch (cmd) {
      case 0xa4: return this.push(0xf1, 'controller');   // no password installed
      case 0xa7: this.ram[0]! |= CTR_AUXDIS; return this.updateIrqs();
      case 0xa8: this.ram[0]! &= ~CTR_AUXDIS; return this.updateIrqs();
      case 0xa9: return this.push(0x00, 'controller');   // AUX interface test: lines fine
      case 0xaa: this.ram[0]! |= CTR_SYS; return this.push(0x55, 'controller');
      case 0xab: return this.push(0x00, 'controller');   // keyboard interface test: lines fine
      case 0xad: this.ram[0]! |= CTR_KBDDIS; return this.updateIrqs();
      case 0xae: this.ram[0]! &= ~CTR_KBDDIS; return this.updateIrqs();
      case 0xc0: return this.push(0x80, 'controller');   // input port: keyboard not inhibited
      case 0xd0: return this.push(this.outputPortValue(), 'controller');
      case 0xe0: return this.push(0x00, 'controller');   // test inputs
      default: this.ignoredCommands++;
    }
  }

  private outputPortValue(): number {
    const head = this.head();
    return this.outputPort | (head && !head.aux ? 0x10 : 0) | (head?.aux ? 0x20 : 0);
  }

  private writeData(v: number): void {
    this.lastWriteWasCommand = false;
    const cmd = this.pendingCommand;
    this.pendingCommand = undefined;
    if (cmd === undefined) return this.keyboardByte(v);
    if (cmd >= 0x60 && cmd <= 0x7f) {
      this.ram[cmd & 0x1f] = v;
      return this.updateIrqs();
    }
    switch (cmd) {
      case 0xd1:
        this.outputPort = v;
        if (!(v & OUTPORT_RESET)) this.opts.onReset();
        return;
      case 0xd2: return this.push(v, 'controller');
      case 0xd3: return this.push(v, 'aux');
      case 0xd4: return this.push(KBD_RESEND, 'aux', true);   // no mouse: the controller times out
    }
  }

  /** A byte for the keyboard: a command, or the parameter of the previous one. */
  private keyboardByte(v: number): void {
    this.ram[0]! &= ~CTR_KBDDIS;   // sending to the keyboard enables its interface, as on the 8042
    this.updateIrqs();
    const reply = (...bytes: number[]): void => { for (const b of bytes) this.push(b, 'keyboard'); };
    if (this.keyboardParam !== undefined) {
      const command = this.keyboardParam;
      this.keyboardParam = undefined;
      // 0xf0 with 0 reads the scan set (2); other parameters are accepted.
      if (command === 0xf0 && v === 0) return reply(KBD_ACK, this.ram[0]! & CTR_XLATE ? 0x41 : 0x02);
      return reply(KBD_ACK);
    }
    switch (v) {
      case 0xed: case 0xf0: case 0xf3:
        this.keyboardParam = v;
        return reply(KBD_ACK);
      case 0xee: return reply(0xee);                                    // echo
      case 0xf2: return reply(KBD_ACK, 0xab, this.ram[0]! & CTR_XLATE ? 0x41 : 0x83);
      case 0xf4: case 0xf5: case 0xf6: case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
        return reply(KBD_ACK);
      case 0xfe: return reply(KBD_ACK);
      case 0xff: return reply(KBD_ACK, KBD_BAT_OK);
      default: return reply(KBD_RESEND);
    }
  }
}
