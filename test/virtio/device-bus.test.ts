/**
 * The PCI pieces plugged into the monitor's DeviceBus the way `tsvisor run` will: config ports at
 * 0xCF8, the 32-bit window below the IOAPIC, ECAM, next to a LAPIC page; a guest's port and MMIO
 * requests reach the virtio function through dispatchIo/dispatchMem. Guest RAM in two regions
 * around the PCI hole, with the rings above 4 GiB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceBus } from '../../src/vmm/bus.js';
import { RegionGuestMemory } from '../../src/vmm/bus/guest-memory.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { PciBus } from '../../src/vmm/bus/pci/pci-bus.js';
import { assignPciResources } from '../../src/vmm/bus/pci/resource-assignment.js';
import { VirtioPciFunction } from '../../src/vmm/devices/virtio/pci-transport.js';
import { VirtioRng } from '../../src/vmm/devices/virtio/rng.js';
import { bytes, le } from '../pci/config-io.js';
import { RecordingSink } from '../pci/fixtures.js';
import { rig } from '../lapic/fixture.js';

const LOW = new Uint8Array(0x100000), HIGH = new Uint8Array(0x100000);
const HIGH_BASE = 0x100000000;

test('config cycles, BAR accesses and DMA above 4 GiB through the DeviceBus', () => {
  const mem = new RegionGuestMemory([{ gpa: 0, bytes: LOW }, { gpa: HIGH_BASE, bytes: HIGH }]);
  const pci = new PciBus({ intx: [0, 1, 2, 3].map(() => new RecordingLine()) });
  const dev = new VirtioPciFunction('virtio-rng', new VirtioRng(), { mem, msi: new RecordingSink() });
  const slot = pci.add(dev);
  assignPciResources(pci, { mmio32: { base: 0xc0000000, size: 0x3ec00000 } });
  const bus = new DeviceBus();
  bus.addPortDevice(pci.configPorts());
  bus.addMmioDevice(pci.mmioWindow('pci-mmio32', 0xc0000000, 0x3ec00000));
  bus.addMmioDevice(pci.ecam(0xb0000000));
  bus.addMmioDevice(rig().lapic);

  const io = (port: number, size: number, value?: number): number => {
    const data = value === undefined ? new Uint8Array(size) : bytes(size, value);
    bus.dispatchIo({ port, in: value === undefined, size, data });
    return le(data);
  };
  const mmio = (gpa: number, size: number, value?: number): number => {
    const data = value === undefined ? new Uint8Array(size) : bytes(size, value);
    bus.dispatchMem({ gpa, write: value !== undefined, size, data });
    return le(data);
  };
  io(0xcf8, 4, 0x80000000 | (slot << 11));
  assert.equal(io(0xcfc, 4), 0x10441af4);
  assert.equal(mmio(0xb0000000 + (slot << 15), 4), 0x10441af4, 'same function through ECAM');

  const common = dev.barAddress(4);
  assert.ok(common >= 0xc0000000 && common < 0xfec00000);
  mmio(common + 0x14, 1, 1 | 2);
  mmio(common + 0x0c, 4, 0);
  mmio(common + 0x08, 4, 1);
  mmio(common + 0x0c, 4, 1); // VERSION_1 only
  mmio(common + 0x14, 1, 1 | 2 | 8);
  assert.equal(mmio(common + 0x14, 1), 1 | 2 | 8);
  const [desc, avail, used] = [HIGH_BASE + 0x1000, HIGH_BASE + 0x2000, HIGH_BASE + 0x3000];
  mmio(common + 0x16, 2, 0);
  for (const [off, gpa] of [[0x20, desc], [0x28, avail], [0x30, used]] as const) {
    mmio(common + off, 4, gpa % 0x100000000);
    mmio(common + off + 4, 4, Math.floor(gpa / 0x100000000));
  }
  mmio(common + 0x1c, 2, 1);
  mmio(common + 0x14, 1, 1 | 2 | 8 | 4);
  // One 32-byte buffer in high RAM.
  const dv = new DataView(HIGH.buffer);
  dv.setBigUint64(0x1000, BigInt(HIGH_BASE + 0x8000), true);
  dv.setUint32(0x1008, 32, true);
  dv.setUint16(0x100c, 2, true);
  dv.setUint16(0x2004, 0, true);
  dv.setUint16(0x2002, 1, true);
  mmio(common + 0x3000, 2, 0);
  assert.equal(dv.getUint16(0x3002, true), 1, 'used idx');
  assert.equal(dv.getUint32(0x3008, true), 32, 'used len');
  assert.ok(HIGH.subarray(0x8000, 0x8020).some((b) => b !== 0));
  assert.equal(dev.core.errors, 0);
  // The LAPIC page is still the LAPIC's: the window ends below it.
  assert.equal(mmio(0xfee00020, 4), 0);
});
