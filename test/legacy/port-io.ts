/** inb/outb over a DeviceBus, so tests drive devices at their PC ports as a driver does. */
import type { DeviceBus } from '../../src/vmm/bus.js';

export class PortIo {
  constructor(private readonly bus: DeviceBus) {}

  inb(port: number): number {
    const data = new Uint8Array(1);
    this.bus.dispatchIo({ port, in: true, size: 1, data });
    return data[0]!;
  }

  outb(port: number, value: number): void {
    this.bus.dispatchIo({ port, in: false, size: 1, data: new Uint8Array([value & 0xff]) });
  }

  inw(port: number): number {
    const data = new Uint8Array(2);
    this.bus.dispatchIo({ port, in: true, size: 2, data });
    return data[0]! | data[1]! << 8;
  }

  readl(gpa: number): number {
    const data = new Uint8Array(4);
    this.bus.dispatchMem({ gpa, write: false, size: 4, data });
    return new DataView(data.buffer).getUint32(0, true);
  }

  writel(gpa: number, value: number): void {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    this.bus.dispatchMem({ gpa, write: true, size: 4, data });
  }
}
