/**
 * One PCI function: its configuration space (type 0 header), its BARs and where they decode, its
 * capability list, and its INTx pin. Device models (virtio, ...) build on this; the bus
 * (host-bridge.ts) reads and writes configuration space through configRead/configWrite and asks
 * mappings() where the function's BARs decode whenever onDecodeChange fires.
 */
import { VmmError, hex } from '../../../api/errors.js';
import type { InterruptLine } from '../interrupt-line.js';
import { PciConfigSpace } from './config-space.js';
import {
  PCI_BAR, PCI_CAP_START, PCI_CFG, PCI_COMMAND, PCI_COMMAND_WRITABLE, PCI_CONFIG_SIZE, PCI_STATUS,
  type PciInterruptPin,
} from './registers.js';

/** What answers accesses inside a BAR; offset is from the BAR's base. */
export interface BarHandler {
  read(offset: number, data: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
}

export type BarKind = 'mem32' | 'mem64' | 'io';

export interface BarSpec {
  kind: BarKind;
  /** A power of two: 16 bytes or more for memory, 4 ports or more (at most 256) for I/O. */
  size: number;
  prefetchable?: boolean;
  handler: BarHandler;
}

/** A BAR that currently decodes: its address space, where, and who answers. */
export interface BarMapping {
  space: 'mem' | 'io';
  base: number;
  size: number;
  handler: BarHandler;
  fn: PciFunction;
  bar: number;
}

export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  /** base class << 16 | subclass << 8 | programming interface */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** INTA..INTD, or absent for a function that raises no INTx. */
  interruptPin?: PciInterruptPin;
}

/** Something that must see config accesses to its registers (a capability with side effects). */
export interface ConfigHook {
  start: number;
  end: number;
  beforeRead?(offset: number, length: number): void;
  afterWrite?(offset: number, length: number): void;
}

const BAR_COUNT = 6;
const IO_BAR_LIMIT = 256;
const TWO_32 = 0x100000000;

export class PciFunction {
  readonly config: PciConfigSpace;
  readonly name: string;
  /** Set by the bus: called when a BAR moves or decode is switched on or off. */
  onDecodeChange: (() => void) | undefined;
  /** Set by the bus when the function has an interrupt pin. */
  intxLine: InterruptLine | undefined;
  private readonly bars: (BarSpec | undefined)[] = new Array<BarSpec | undefined>(BAR_COUNT).fill(undefined);
  private readonly hooks: ConfigHook[] = [];
  private lastCapability = 0;
  private nextCapability = PCI_CAP_START;
  private intxLevel = false;

  constructor(name: string, id: PciIdentity, config = new PciConfigSpace()) {
    this.name = name;
    this.config = config;
    const c = config;
    c.set16(PCI_CFG.VENDOR_ID, id.vendorId);
    c.set16(PCI_CFG.DEVICE_ID, id.deviceId);
    c.set8(PCI_CFG.REVISION, id.revision ?? 0);
    c.set8(PCI_CFG.CLASS_PROG, id.classCode & 0xff);
    c.set16(PCI_CFG.CLASS_PROG + 1, (id.classCode >>> 8) & 0xffff);
    c.set16(PCI_CFG.SUBSYSTEM_VENDOR, id.subsystemVendorId ?? 0);
    c.set16(PCI_CFG.SUBSYSTEM_ID, id.subsystemId ?? 0);
    c.setWritable(PCI_CFG.COMMAND, 2, PCI_COMMAND_WRITABLE);
    c.setClearOnWrite(PCI_CFG.STATUS, 2, PCI_STATUS.ERROR_BITS);
    // Cache line size and latency timer are plain storage software may program.
    c.setWritable(PCI_CFG.CACHE_LINE, 1, 0xff);
    c.setWritable(PCI_CFG.LATENCY, 1, 0xff);
    // Interrupt Line is a scratch register for software (firmware writes the routing there).
    c.setWritable(PCI_CFG.INTERRUPT_LINE, 1, 0xff);
    c.set8(PCI_CFG.INTERRUPT_PIN, id.interruptPin ?? 0);
  }

  get interruptPin(): number {
    return this.config.get8(PCI_CFG.INTERRUPT_PIN);
  }

  get command(): number {
    return this.config.get16(PCI_CFG.COMMAND);
  }

  /** Declares BAR index (0..5; a 64-bit BAR also takes index + 1). Done before the guest runs. */
  addBar(index: number, spec: BarSpec): void {
    const words = spec.kind === 'mem64' ? 2 : 1;
    if (!Number.isInteger(index) || index < 0 || index + words > BAR_COUNT) {
      throw new VmmError('EINVAL', `${this.name}: BAR index ${index} does not fit a ${spec.kind} BAR`);
    }
    for (let i = index; i < index + words; i++) {
      if (this.bars[i] || (i > 0 && this.bars[i - 1]?.kind === 'mem64')) throw new VmmError('EEXIST', `${this.name}: BAR ${i} is already in use`);
    }
    const min = spec.kind === 'io' ? PCI_BAR.MIN_IO_SIZE : PCI_BAR.MIN_MEM_SIZE;
    const max = spec.kind === 'io' ? IO_BAR_LIMIT : spec.kind === 'mem32' ? 2 ** 31 : 2 ** 52;
    if (!Number.isInteger(spec.size) || spec.size < min || spec.size > max || 2 ** Math.round(Math.log2(spec.size)) !== spec.size) {
      throw new VmmError('EINVAL', `${this.name}: BAR ${index} size ${hex(spec.size)} must be a power of two in ${hex(min)}..${hex(max)}`);
    }
    this.bars[index] = spec;
    const at = PCI_CFG.BAR0 + 4 * index;
    const typeBits = spec.kind === 'io' ? PCI_BAR.IO :
      (spec.kind === 'mem64' ? PCI_BAR.MEM_TYPE_64 : 0) | (spec.prefetchable ? PCI_BAR.MEM_PREFETCH : 0);
    this.config.set32(at, typeBits);
    // The writable bits are the address bits above the size: writing all ones and reading back
    // yields ~(size - 1) | type bits, which is the BAR sizing protocol.
    const lowMask = spec.size >= TWO_32 ? 0 : (TWO_32 - spec.size) >>> 0;
    if (spec.kind === 'io') this.config.setWritable(at, 4, lowMask & 0xfffc);
    else this.config.setWritable(at, 4, lowMask & 0xfffffff0);
    if (spec.kind === 'mem64') {
      const highMask = spec.size > TWO_32 ? (0xffffffff - (spec.size / TWO_32 - 1)) >>> 0 : 0xffffffff;
      this.config.setWritable(at + 4, 4, highMask);
    }
  }

  bar(index: number): BarSpec | undefined {
    return this.bars[index];
  }

  /** The address BAR index holds now (whether or not decode is enabled). */
  barAddress(index: number): number {
    const spec = this.bars[index];
    if (!spec) throw new VmmError('EINVAL', `${this.name}: no BAR ${index}`);
    const at = PCI_CFG.BAR0 + 4 * index;
    const low = this.config.get32(at);
    if (spec.kind === 'io') return low & 0xfffc;
    const base = (low & 0xfffffff0) >>> 0;
    return spec.kind === 'mem64' ? this.config.get32(at + 4) * TWO_32 + base : base;
  }

  /** BARs that decode now: memory BARs with memory decode on, I/O BARs with I/O decode on. */
  mappings(): BarMapping[] {
    const out: BarMapping[] = [];
    const cmd = this.command;
    this.bars.forEach((spec, bar) => {
      if (!spec) return;
      const space = spec.kind === 'io' ? 'io' : 'mem';
      if (!(cmd & (space === 'io' ? PCI_COMMAND.IO : PCI_COMMAND.MEMORY))) return;
      const base = this.barAddress(bar);
      // A 64-bit BAR programmed above 2^53 is beyond every window the monitor can have.
      if (Number.isSafeInteger(base + spec.size)) out.push({ space, base, size: spec.size, handler: spec.handler, fn: this, bar });
    });
    return out;
  }

  /**
   * Appends a capability of length bytes (header included) to the list and returns its offset;
   * the caller fills its body and sets its writable masks.
   */
  addCapability(id: number, length: number): number {
    const at = this.nextCapability;
    if (length < 2 || at + length > PCI_CONFIG_SIZE) {
      throw new VmmError('ENOBUFS', `${this.name}: no room for a ${length}-byte capability ${hex(id)} at ${hex(at)}`);
    }
    this.config.set8(at, id);
    this.config.set8(at + 1, 0);
    if (this.lastCapability) this.config.set8(this.lastCapability + 1, at);
    else this.config.set8(PCI_CFG.CAPABILITIES, at);
    this.config.set16(PCI_CFG.STATUS, this.config.get16(PCI_CFG.STATUS) | PCI_STATUS.CAP_LIST);
    this.lastCapability = at;
    this.nextCapability = (at + length + 3) & ~3;
    return at;
  }

  addConfigHook(hook: ConfigHook): void {
    this.hooks.push(hook);
  }

  configRead(offset: number, length: number): number {
    for (const h of this.hooks) if (h.beforeRead && offset < h.end && offset + length > h.start) h.beforeRead(offset, length);
    return this.config.read(offset, length);
  }

  configWrite(offset: number, length: number, value: number): void {
    const before = this.decodeKey();
    const oldCommand = this.command;
    this.config.write(offset, length, value);
    if (this.command !== oldCommand) this.driveIntx();
    if (this.onDecodeChange && this.decodeKey() !== before) this.onDecodeChange();
    for (const h of this.hooks) if (h.afterWrite && offset < h.end && offset + length > h.start) h.afterWrite(offset, length);
  }

  /**
   * The function's INTx request (level-triggered). The Interrupt Status bit follows it; the pin
   * is driven only while INTx Disable is clear.
   */
  setIntx(level: boolean): void {
    this.intxLevel = level;
    const status = this.config.get16(PCI_CFG.STATUS);
    this.config.set16(PCI_CFG.STATUS, level ? status | PCI_STATUS.INTERRUPT : status & ~PCI_STATUS.INTERRUPT);
    this.driveIntx();
  }

  get intxAsserted(): boolean {
    return this.intxLevel;
  }

  private driveIntx(): void {
    this.intxLine?.set(this.intxLevel && !(this.command & PCI_COMMAND.INTX_DISABLE));
  }

  /** A string that changes exactly when the set of decoding BARs changes. */
  private decodeKey(): string {
    return this.mappings().map((m) => `${m.bar}:${m.base}`).join(',');
  }
}
