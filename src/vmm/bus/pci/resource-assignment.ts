/**
 * What firmware does before the OS runs: give every BAR an address inside the host bridge's
 * windows (largest first, each aligned to its size) and switch on decode and bus mastering.
 * Linux keeps assignments that lie inside the windows ACPI declares, so the monitor calls this
 * once before boot; a BAR that does not fit is an error naming it.
 */
import { VmmError, hex } from '../../../api/errors.js';
import type { PciBus } from './pci-bus.js';
import { PCI_CFG, PCI_COMMAND } from './registers.js';

export interface PciWindow { base: number; size: number }

export interface PciWindows {
  /** Below 4 GiB: 32-bit BARs, and 64-bit ones when there is no 64-bit window. */
  mmio32: PciWindow;
  /** Above 4 GiB, for 64-bit BARs (optional). */
  mmio64?: PciWindow;
  io?: PciWindow;
}

/** A bump allocator over one window. */
class WindowAllocator {
  private next: number;
  constructor(private readonly what: string, private readonly w: PciWindow) { this.next = w.base; }
  take(size: number): number | undefined {
    const at = Math.ceil(this.next / size) * size;
    if (at + size > this.w.base + this.w.size) return undefined;
    this.next = at + size;
    return at;
  }
  describe(): string { return `${this.what} window ${hex(this.w.base)}+${hex(this.w.size)}`; }
}

export function assignPciResources(bus: PciBus, windows: PciWindows): void {
  const mem32 = new WindowAllocator('32-bit memory', windows.mmio32);
  const mem64 = windows.mmio64 ? new WindowAllocator('64-bit memory', windows.mmio64) : undefined;
  const io = windows.io ? new WindowAllocator('I/O', windows.io) : undefined;
  const bars = bus.list().flatMap(({ slot, func, fn }) =>
    [0, 1, 2, 3, 4, 5].flatMap((bar) => { const spec = fn.bar(bar); return spec ? [{ slot, func, fn, bar, spec }] : []; }));
  bars.sort((a, b) => b.spec.size - a.spec.size);
  for (const { slot, func, fn, bar, spec } of bars) {
    const where = spec.kind === 'io' ? io : spec.kind === 'mem64' && mem64 ? mem64 : mem32;
    const name = `${fn.name} (00:${slot.toString(16).padStart(2, '0')}.${func}) BAR ${bar}`;
    if (!where) throw new VmmError('ENOBUFS', `${name}: no I/O window to place a ${hex(spec.size)}-port BAR in`);
    const at = where.take(spec.size);
    if (at === undefined) throw new VmmError('ENOBUFS', `${name} (${hex(spec.size)} bytes) does not fit in the ${where.describe()}`);
    const reg = PCI_CFG.BAR0 + 4 * bar;
    fn.configWrite(reg, 4, at % 0x100000000);
    if (spec.kind === 'mem64') fn.configWrite(reg + 4, 4, Math.floor(at / 0x100000000));
  }
  for (const { fn } of bus.list()) {
    const kinds = [0, 1, 2, 3, 4, 5].map((b) => fn.bar(b)?.kind);
    const enable = (kinds.includes('io') ? PCI_COMMAND.IO : 0) | (kinds.some((k) => k === 'mem32' || k === 'mem64') ? PCI_COMMAND.MEMORY : 0);
    if (enable) fn.configWrite(PCI_CFG.COMMAND, 2, fn.command | enable | PCI_COMMAND.BUS_MASTER);
  }
}
