/** Test helpers: configuration mechanism #1 as a guest driver uses it (outl 0xCF8, in/out 0xCFC+n). */
import type { PortDevice } from '../../src/vmm/devices/device.js';

export class ConfigIo {
  constructor(private readonly ports: PortDevice) {}

  out(port: number, size: 1 | 2 | 4, value: number): void {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (value >>> (8 * i)) & 0xff;
    this.ports.write(port - this.ports.base, data);
  }

  in(port: number, size: 1 | 2 | 4): number {
    const data = new Uint8Array(size);
    this.ports.read(port - this.ports.base, data);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + data[i]!;
    return v;
  }

  /** Linux's pci_conf1_read: address register, then the data port lane the offset selects. */
  read(slot: number, func: number, reg: number, size: 1 | 2 | 4, bus = 0): number {
    this.out(0xcf8, 4, (0x80000000 | (bus << 16) | (slot << 11) | (func << 8) | (reg & 0xfc)) >>> 0);
    return this.in(0xcfc + (reg & 3), size);
  }

  write(slot: number, func: number, reg: number, size: 1 | 2 | 4, value: number, bus = 0): void {
    this.out(0xcf8, 4, (0x80000000 | (bus << 16) | (slot << 11) | (func << 8) | (reg & 0xfc)) >>> 0);
    this.out(0xcfc + (reg & 3), size, value);
  }
}

export function le(data: Uint8Array): number {
  let v = 0;
  for (let i = data.length - 1; i >= 0; i--) v = v * 256 + data[i]!;
  return v;
}

export function bytes(size: number, value: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return d;
}
