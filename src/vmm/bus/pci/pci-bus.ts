/**
 * PCI bus 0 behind a host bridge: the functions in its 32 slots, configuration access through
 * mechanism #1 (ports 0xCF8/0xCFC) and optionally ECAM (memory-mapped, PCIe), and the routing table
 * that sends accesses in the host bridge's memory and I/O windows to whichever BAR decodes there.
 *
 * The monitor's DeviceBus holds fixed ranges, so it registers the PCI pieces as ordinary devices:
 * configPorts() at 0xCF8, mmioWindow()/ioWindow() over the windows ACPI declares for the host
 * bridge, ecam() at the MCFG address. BARs move inside the windows without the DeviceBus knowing.
 * Accesses nobody claims end as a master abort: reads return all ones, writes are dropped, as on
 * hardware (and counted in `unclaimed` so the monitor can log them).
 */
import { VmmError, hex } from '../../../api/errors.js';
import type { MmioDevice, PortDevice } from '../../devices/device.js';
import type { InterruptLine } from '../interrupt-line.js';
import { PciFunction, type BarMapping } from './function.js';
import { PciIntxRouter, intxLineIndex } from './intx-routing.js';
import { PCI_CFG, PCI_HEADER_MULTIFUNCTION, type PciInterruptPin } from './registers.js';

export const PCI_SLOTS = 32;
export const PCI_FUNCTIONS = 8;
export const CONFIG_ADDRESS_PORT = 0xcf8;
/** Bytes of ECAM per bus: 32 devices x 8 functions x 4 KiB. */
export const ECAM_BUS_SIZE = 1 << 20;
/** The config address register: enable bit, bus/device/function/register fields (reserved bits read 0). */
const CONFIG_ADDRESS_ENABLE = 0x80000000;
const CONFIG_ADDRESS_MASK = 0x80fffffc;

export interface PciBusOptions {
  /** PIRQ A..D: the four shared INTx lines (see intx-routing.ts for the swizzle). */
  intx: readonly InterruptLine[];
  /**
   * The GSI each line lands on, written into the Interrupt Line register of each function as
   * firmware does (Linux uses ACPI _PRT, but other software reads the register). Default 16..19.
   */
  intxGsis?: readonly number[];
  /** Identity of the host bridge at 00:00.0 (default: the id QEMU's generic host bridge uses). */
  hostBridge?: { vendorId: number; deviceId: number };
  /**
   * The reset control register at 0xCF9 (as on PIIX/ICH chipsets; Linux writes 0x02 then 0x06 for
   * reboot=pci): called with each byte written there. Without it the byte is not decoded.
   */
  onResetControl?: (value: number) => void;
}

const RESET_CONTROL_OFFSET = 1;

/** Accesses of up to 8 bytes, split into naturally aligned pieces of 1, 2 or 4 bytes. */
function pieces(offset: number, length: number, each: (at: number, len: number, index: number) => void): void {
  let i = 0;
  while (i < length) {
    const at = offset + i;
    let len = 4;
    while (len > 1 && (at % len !== 0 || i + len > length)) len >>= 1;
    each(at, len, i);
    i += len;
  }
}

function getLe(data: Uint8Array, index: number, len: number): number {
  let v = 0;
  for (let k = len - 1; k >= 0; k--) v = v * 256 + data[index + k]!;
  return v;
}

function putLe(data: Uint8Array, index: number, len: number, v: number): void {
  for (let k = 0; k < len; k++) data[index + k] = Math.floor(v / 2 ** (8 * k)) & 0xff;
}

export class PciBus {
  readonly hostBridge: PciFunction;
  /** Window accesses that no BAR claimed, and config accesses to absent functions. */
  unclaimed = 0;
  private readonly functions = new Map<number, PciFunction>();
  private readonly intx: PciIntxRouter;
  private readonly gsis: readonly number[];
  private memRoutes: BarMapping[] = [];
  private ioRoutes: BarMapping[] = [];
  private configAddress = 0;
  private resetControl = 0;
  private readonly onResetControl: ((value: number) => void) | undefined;

  constructor(opts: PciBusOptions) {
    this.onResetControl = opts.onResetControl;
    this.intx = new PciIntxRouter(opts.intx);
    this.gsis = opts.intxGsis ?? [16, 17, 18, 19];
    const id = opts.hostBridge ?? { vendorId: 0x1b36, deviceId: 0x0008 };
    this.hostBridge = new PciFunction('host-bridge', { ...id, classCode: 0x060000 });
    this.add(this.hostBridge, 0);
  }

  /**
   * Plugs fn into slot (first free slot when omitted) as function number func. Returns the slot.
   * Function 0 of a slot must exist before others (software scans function 0 first).
   */
  add(fn: PciFunction, slot?: number, func = 0): number {
    const s = slot ?? this.freeSlot();
    if (!Number.isInteger(s) || s < 0 || s >= PCI_SLOTS) throw new VmmError('EINVAL', `PCI slot ${s} must be 0..${PCI_SLOTS - 1}`);
    if (!Number.isInteger(func) || func < 0 || func >= PCI_FUNCTIONS) throw new VmmError('EINVAL', `PCI function ${func} must be 0..7`);
    const key = s * PCI_FUNCTIONS + func;
    if (this.functions.has(key)) throw new VmmError('EEXIST', `PCI 00:${hex(s)}.${func} is already taken by ${this.functions.get(key)!.name}`);
    const f0 = this.functions.get(s * PCI_FUNCTIONS);
    if (func > 0) {
      if (!f0) throw new VmmError('EINVAL', `PCI 00:${hex(s)}.${func}: function 0 of the slot must be added first`);
      f0.config.set8(PCI_CFG.HEADER_TYPE, f0.config.get8(PCI_CFG.HEADER_TYPE) | PCI_HEADER_MULTIFUNCTION);
    }
    this.functions.set(key, fn);
    const pin = fn.interruptPin;
    if (pin >= 1 && pin <= 4) {
      fn.intxLine = this.intx.connect(s, pin as PciInterruptPin);
      fn.config.set8(PCI_CFG.INTERRUPT_LINE, this.gsis[intxLineIndex(s, pin as PciInterruptPin)]! & 0xff);
    }
    fn.onDecodeChange = () => this.rebuildRoutes();
    this.rebuildRoutes();
    return s;
  }

  find(bus: number, slot: number, func: number): PciFunction | undefined {
    return bus === 0 ? this.functions.get(slot * PCI_FUNCTIONS + func) : undefined;
  }

  /** Every function on the bus with its slot and function number. */
  list(): { slot: number; func: number; fn: PciFunction }[] {
    return [...this.functions].sort((a, b) => a[0] - b[0]).map(([k, fn]) => ({ slot: k >> 3, func: k & 7, fn }));
  }

  /** Configuration read of data.length bytes at offset; an absent function reads all ones. */
  configRead(bus: number, slot: number, func: number, offset: number, data: Uint8Array): void {
    const fn = this.find(bus, slot, func);
    if (!fn) {
      this.unclaimed++;
      data.fill(0xff);
      return;
    }
    pieces(offset, data.length, (at, len, i) => {
      // Beyond a conventional function's 256 bytes (reachable through ECAM) there is nothing: all ones.
      putLe(data, i, len, at + len <= fn.config.size ? fn.configRead(at, len) : 2 ** (8 * len) - 1);
    });
  }

  configWrite(bus: number, slot: number, func: number, offset: number, data: Uint8Array): void {
    const fn = this.find(bus, slot, func);
    if (!fn) {
      this.unclaimed++;
      return;
    }
    pieces(offset, data.length, (at, len, i) => {
      if (at + len <= fn.config.size) fn.configWrite(at, len, getLe(data, i, len));
    });
  }

  /** The BAR decoding guest-physical [gpa, gpa + length), if one does. */
  routeMemory(gpa: number, length: number): BarMapping | undefined {
    return this.memRoutes.find((m) => gpa >= m.base && gpa + length <= m.base + m.size);
  }

  routeIo(port: number, length: number): BarMapping | undefined {
    return this.ioRoutes.find((m) => port >= m.base && port + length <= m.base + m.size);
  }

  /** Configuration mechanism #1: the address register at 0xCF8 and the data window 0xCFC-0xCFF. */
  configPorts(): PortDevice {
    return {
      name: 'pci-config', base: CONFIG_ADDRESS_PORT, count: 8,
      read: (offset, data) => {
        if (offset < 4) {
          // Only a dword access at 0xCF8 reaches the address register; narrower ones go to
          // whatever else decodes 0xCF8-0xCFB, which here is nothing.
          if (offset === 0 && data.length === 4) putLe(data, 0, 4, this.configAddress);
          else if (offset === RESET_CONTROL_OFFSET && data.length === 1 && this.onResetControl) data[0] = this.resetControl;
          else data.fill(0xff);
          return;
        }
        const target = this.configTarget(offset - 4);
        if (target) this.configRead(target.bus, target.slot, target.func, target.reg, data);
        else data.fill(0xff);
      },
      write: (offset, data) => {
        if (offset < 4) {
          if (offset === 0 && data.length === 4) this.configAddress = (getLe(data, 0, 4) & CONFIG_ADDRESS_MASK) >>> 0;
          else if (offset === RESET_CONTROL_OFFSET && data.length === 1 && this.onResetControl) {
            // Bits 1-3 (system reset, reset CPU, full reset) are what the register holds.
            this.resetControl = data[0]! & 0x0e;
            this.onResetControl(data[0]!);
          }
          return;
        }
        const target = this.configTarget(offset - 4);
        if (target) this.configWrite(target.bus, target.slot, target.func, target.reg, data);
      },
    };
  }

  /** ECAM (PCI Express enhanced configuration access) for buses 0..buses-1 at base. */
  ecam(base: number, buses = 1): MmioDevice {
    if (!Number.isInteger(buses) || buses < 1 || buses > 256) throw new VmmError('EINVAL', `ECAM bus count ${buses} must be 1..256`);
    if (!Number.isSafeInteger(base) || base < 0 || base % ECAM_BUS_SIZE !== 0) throw new VmmError('EINVAL', `ECAM base ${hex(base)} must be 1 MiB aligned`);
    const decode = (offset: number) => ({ bus: offset >>> 20, slot: (offset >>> 15) & 31, func: (offset >>> 12) & 7, reg: offset & 0xfff });
    return {
      name: 'pci-ecam', base, size: buses * ECAM_BUS_SIZE,
      read: (offset, data) => {
        const t = decode(offset);
        if (t.reg + data.length > 0x1000) data.fill(0xff);
        else this.configRead(t.bus, t.slot, t.func, t.reg, data);
      },
      write: (offset, data) => {
        const t = decode(offset);
        if (t.reg + data.length <= 0x1000) this.configWrite(t.bus, t.slot, t.func, t.reg, data);
      },
    };
  }

  /** The host bridge's memory window [base, base + size): accesses go to the BAR decoding there. */
  mmioWindow(name: string, base: number, size: number): MmioDevice {
    return {
      name, base, size,
      read: (offset, data) => {
        const m = this.routeMemory(base + offset, data.length);
        if (m) m.handler.read(base + offset - m.base, data);
        else this.masterAbort(data);
      },
      write: (offset, data) => {
        const m = this.routeMemory(base + offset, data.length);
        if (m) m.handler.write(base + offset - m.base, data);
        else this.unclaimed++;
      },
    };
  }

  /** The host bridge's I/O window [base, base + count). */
  ioWindow(name: string, base: number, count: number): PortDevice {
    return {
      name, base, count,
      read: (offset, data) => {
        const m = this.routeIo(base + offset, data.length);
        if (m) m.handler.read(base + offset - m.base, data);
        else this.masterAbort(data);
      },
      write: (offset, data) => {
        const m = this.routeIo(base + offset, data.length);
        if (m) m.handler.write(base + offset - m.base, data);
        else this.unclaimed++;
      },
    };
  }

  private masterAbort(data: Uint8Array): void {
    this.unclaimed++;
    data.fill(0xff);
  }

  /** Where a data-port access at byte `lane` (0..3 of 0xCFC) goes, or undefined when disabled. */
  private configTarget(lane: number): { bus: number; slot: number; func: number; reg: number } | undefined {
    const a = this.configAddress;
    if (!(a & CONFIG_ADDRESS_ENABLE)) return undefined;
    return { bus: (a >>> 16) & 0xff, slot: (a >>> 11) & 31, func: (a >>> 8) & 7, reg: (a & 0xfc) + lane };
  }

  private freeSlot(): number {
    for (let s = 1; s < PCI_SLOTS; s++) if (!this.functions.has(s * PCI_FUNCTIONS)) return s;
    throw new VmmError('ENOBUFS', `all ${PCI_SLOTS} PCI slots are taken`);
  }

  private rebuildRoutes(): void {
    const all = [...this.functions.values()].flatMap((fn) => fn.mappings());
    this.memRoutes = all.filter((m) => m.space === 'mem');
    this.ioRoutes = all.filter((m) => m.space === 'io');
  }
}
