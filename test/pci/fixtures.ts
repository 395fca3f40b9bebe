/** A PCI bus with a test function that has one BAR of each kind and MSI-X, for the PCI tests. */
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import type { MsiSink } from '../../src/vmm/bus/interrupt-line.js';
import { BarLayout } from '../../src/vmm/bus/pci/bar-layout.js';
import { PciFunction, type BarHandler } from '../../src/vmm/bus/pci/function.js';
import { MsixCapability } from '../../src/vmm/bus/pci/msix.js';
import { PciBus } from '../../src/vmm/bus/pci/pci-bus.js';

/** A BAR full of plain storage that remembers what was written where. */
export class ScratchRegs implements BarHandler {
  readonly bytes: Uint8Array;
  constructor(size: number) { this.bytes = new Uint8Array(size); }
  read(offset: number, data: Uint8Array): void { data.set(this.bytes.subarray(offset, offset + data.length)); }
  write(offset: number, data: Uint8Array): void { this.bytes.set(data, offset); }
}

export class RecordingSink implements MsiSink {
  readonly messages: { address: number; data: number }[] = [];
  signal(address: number, data: number): void { this.messages.push({ address, data }); }
}

export interface TestBus {
  bus: PciBus;
  lines: RecordingLine[];
  fn: PciFunction;
  slot: number;
  mem32: ScratchRegs;
  mem64: ScratchRegs;
  io: ScratchRegs;
  msix: MsixCapability;
  sink: RecordingSink;
}

export const TEST_IDS = { vendorId: 0x1234, deviceId: 0x5678, classCode: 0xff0000, revision: 3, subsystemVendorId: 0x1af4, subsystemId: 0x1100 };

export function testBus(): TestBus {
  const lines = [0, 1, 2, 3].map(() => new RecordingLine());
  const bus = new PciBus({ intx: lines });
  const fn = new PciFunction('test', { ...TEST_IDS, interruptPin: 1 });
  const mem32 = new ScratchRegs(0x1000), mem64 = new ScratchRegs(0x4000), io = new ScratchRegs(0x20);
  const sink = new RecordingSink();
  const msix = new MsixCapability(fn, { vectors: 3, tableBar: 1, tableOffset: 0, pbaBar: 1, pbaOffset: 0x800 }, sink);
  fn.addBar(0, { kind: 'mem32', size: 0x1000, handler: mem32 });
  fn.addBar(1, { kind: 'mem32', size: 0x1000, handler: new BarLayout(0x1000).add(0, msix.tableSize, msix.tableHandler).add(0x800, msix.pbaSize, msix.pbaHandler) });
  fn.addBar(2, { kind: 'mem64', size: 0x4000, prefetchable: true, handler: mem64 });
  fn.addBar(4, { kind: 'io', size: 0x20, handler: io });
  const slot = bus.add(fn);
  return { bus, lines, fn, slot, mem32, mem64, io, msix, sink };
}
