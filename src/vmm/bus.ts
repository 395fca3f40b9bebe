/**
 * The monitor's buses: which device answers which I/O port or guest-physical address. The exit
 * loop hands the assists' requests to dispatchIo/dispatchMem; an access nothing answers is an
 * error naming the port or address (a toy monitor has no "open bus" to fall back on).
 */
import { VmmError, hex } from '../api/errors.js';
import type { IoRequest, MemRequest } from '../api/types.js';
import type { MmioDevice, PortDevice } from './devices/device.js';

/**
 * A device as the bus sees it when the caller places it: name and handlers only, offsets relative to
 * the range it was added at. The legacy PC devices are of this kind; they do not know their base.
 */
export type BusDevice = Pick<PortDevice, 'name' | 'read' | 'write'>;

/** Where add() places a device: the I/O port space (0..0xffff) or guest-physical space. */
export interface BusRange { space: 'io' | 'mmio'; base: number; size: number }

const IO_SPACE_END = 0x10000;

/** A device and the address range it answers, whichever bus it is on. */
interface Slot<D> { dev: D; name: string; base: number; size: number }

class RangeMap<D extends BusDevice> {
  private readonly slots: Slot<D>[] = [];
  constructor(private readonly what: string) {}

  add(slot: Slot<D>): void {
    const clash = this.slots.find((s) => slot.base < s.base + s.size && s.base < slot.base + slot.size);
    if (clash) {
      throw new VmmError('EEXIST', `${slot.name} at ${this.what} ${hex(slot.base)}+${hex(slot.size)} overlaps ${clash.name}`);
    }
    this.slots.push(slot);
  }

  /** The slot holding the whole access [at, at + size), if any. */
  find(at: number, size: number): Slot<D> | undefined {
    return this.slots.find((s) => at >= s.base && at + size <= s.base + s.size);
  }
}

export class DeviceBus {
  private readonly ports = new RangeMap<BusDevice>('I/O port');
  private readonly mmio = new RangeMap<BusDevice>('guest-physical');

  addPortDevice(dev: PortDevice): void {
    this.ports.add({ dev, name: dev.name, base: dev.base, size: dev.count });
  }

  addMmioDevice(dev: MmioDevice): void {
    this.mmio.add({ dev, name: dev.name, base: dev.base, size: dev.size });
  }

  /** Places a device at a range the caller chooses (the bus owns addresses; the device has none). */
  add(range: BusRange, dev: BusDevice): void {
    const { space, base, size } = range;
    const end = space === 'io' ? IO_SPACE_END : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < 0 || size < 1 || base + size > end) {
      throw new VmmError('EINVAL', `${dev.name}: bad ${space} range ${hex(base)}+${size}`);
    }
    const slot = { dev, name: dev.name, base, size };
    if (space === 'io') this.ports.add(slot);
    else this.mmio.add(slot);
  }

  dispatchIo(req: IoRequest): void {
    if (!this.routeIo(req)) throw new VmmError('ENODEV', `no device at I/O port ${hex(req.port)} (${req.in ? 'in' : 'out'}, ${req.size} bytes)`);
  }

  dispatchMem(req: MemRequest): void {
    if (!this.routeMem(req)) throw new VmmError('ENODEV', `no device at guest-physical ${hex(req.gpa)} (${req.write ? 'write' : 'read'}, ${req.size} bytes)`);
  }

  /** Hands the access to the device owning it; false when none does (the caller decides what an open bus does). */
  routeIo(req: IoRequest): boolean {
    const slot = this.ports.find(req.port, req.size);
    if (!slot) return false;
    if (req.in) slot.dev.read(req.port - slot.base, req.data);
    else slot.dev.write(req.port - slot.base, req.data);
    return true;
  }

  routeMem(req: MemRequest): boolean {
    const slot = this.mmio.find(req.gpa, req.size);
    if (!slot) return false;
    if (req.write) slot.dev.write(req.gpa - slot.base, req.data);
    else slot.dev.read(req.gpa - slot.base, req.data);
    return true;
  }
}
