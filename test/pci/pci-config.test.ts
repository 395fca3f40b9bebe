/**
 * PCI configuration space through mechanism #1 and ECAM, driven the way Linux probes a bus:
 * the type 1 check, vendor/class reads, BAR sizing with decode off, BAR programming and decode
 * enable, the capability walk, INTx with the status bit and INTx Disable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PciFunction } from '../../src/vmm/bus/pci/function.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { PciBus } from '../../src/vmm/bus/pci/pci-bus.js';
import { assignPciResources } from '../../src/vmm/bus/pci/resource-assignment.js';
import { ConfigIo, bytes, le } from './config-io.js';
import { TEST_IDS, testBus } from './fixtures.js';

test('the type 1 probe Linux runs finds configuration mechanism #1', () => {
  const { bus } = testBus();
  const io = new ConfigIo(bus.configPorts());
  io.out(0xcfb, 1, 0x01);
  const saved = io.in(0xcf8, 4);
  io.out(0xcf8, 4, 0x80000000);
  assert.equal(io.in(0xcf8, 4), 0x80000000);
  io.out(0xcf8, 4, saved);
  // Reserved low bits of the address register read back as 0.
  io.out(0xcf8, 4, 0x80000803);
  assert.equal(io.in(0xcf8, 4), 0x80000800);
});

test('vendor, device, class and header read through every access size and lane', () => {
  const { bus, slot } = testBus();
  const io = new ConfigIo(bus.configPorts());
  assert.equal(io.read(0, 0, 0, 4), 0x00081b36, 'host bridge id');
  assert.equal(io.read(0, 0, 0x0a, 2), 0x0600, 'host bridge class');
  assert.equal(io.read(slot, 0, 0, 4), 0x56781234);
  assert.equal(io.read(slot, 0, 0, 2), 0x1234);
  assert.equal(io.read(slot, 0, 2, 2), 0x5678);
  assert.equal(io.read(slot, 0, 1, 1), 0x12);
  assert.equal(io.read(slot, 0, 3, 1), 0x56);
  assert.equal(io.read(slot, 0, 8, 4), 0xff000003, 'class ff0000, revision 3');
  assert.equal(io.read(slot, 0, 0x2c, 4), 0x11001af4, 'subsystem');
  assert.equal(io.read(slot, 0, 0x0e, 1), 0, 'single-function type 0 header');
  // Absent functions, other buses, and a disabled address register read all ones.
  assert.equal(io.read(slot + 1, 0, 0, 4), 0xffffffff);
  assert.equal(io.read(slot, 1, 0, 2), 0xffff);
  assert.equal(io.read(0, 0, 0, 4, 1), 0xffffffff);
  io.out(0xcf8, 4, 0);
  assert.equal(io.in(0xcfc, 4), 0xffffffff);
});

test('read-only registers ignore writes; command keeps only its writable bits; status error bits are RW1C', () => {
  const { bus, slot, fn } = testBus();
  const io = new ConfigIo(bus.configPorts());
  io.write(slot, 0, 0, 4, 0xdeadbeef);
  assert.equal(io.read(slot, 0, 0, 4), 0x56781234);
  io.write(slot, 0, 4, 2, 0xffff);
  assert.equal(io.read(slot, 0, 4, 2), 0x0547);
  fn.config.set16(6, fn.config.get16(6) | 0x2000); // a received master abort, set by "hardware"
  io.write(slot, 0, 6, 2, 0x0010);                  // writing 0 to it and 1 to a read-only bit
  assert.equal(io.read(slot, 0, 6, 2) & 0x2000, 0x2000);
  io.write(slot, 0, 6, 2, 0x2000);
  assert.equal(io.read(slot, 0, 6, 2) & 0x2000, 0);
  assert.equal(io.read(slot, 0, 6, 2) & 0x10, 0x10, 'capabilities-list bit stays');
  io.write(slot, 0, 0x3c, 1, 0x0b);
  assert.equal(io.read(slot, 0, 0x3c, 2), 0x010b, 'interrupt line written, pin INTA read-only');
});

test('BAR sizing the way Linux does it: decode off, all ones, read back, restore', () => {
  const { bus, slot } = testBus();
  const io = new ConfigIo(bus.configPorts());
  const cmd = io.read(slot, 0, 4, 2);
  io.write(slot, 0, 4, 2, cmd & ~3);
  const size = (reg: number): number => {
    const orig = io.read(slot, 0, reg, 4);
    io.write(slot, 0, reg, 4, 0xffffffff);
    const v = io.read(slot, 0, reg, 4);
    io.write(slot, 0, reg, 4, orig);
    return v;
  };
  assert.equal(size(0x10), 0xfffff000, 'BAR0: 4 KiB 32-bit memory');
  assert.equal(size(0x18), 0xffffc00c, 'BAR2: 16 KiB 64-bit prefetchable, low half');
  assert.equal(size(0x1c), 0xffffffff, 'BAR2 high half: all address bits writable');
  assert.equal(size(0x20), 0x0000ffe1, 'BAR4: 32 ports (16-bit decode)');
  assert.equal(size(0x24), 0, 'BAR5 not implemented');
  assert.equal(size(0x30), 0, 'no expansion ROM');
  assert.equal(io.read(slot, 0, 0x10, 4), 0, 'restored');
});

test('programmed BARs decode only with decode enabled, and move when reprogrammed', () => {
  const t = testBus();
  const io = new ConfigIo(t.bus.configPorts());
  const win = t.bus.mmioWindow('pci-mem', 0xc0000000, 0x3ec00000);
  const high = t.bus.mmioWindow('pci-mem64', 0x8000000000, 0x100000000);
  const ports = t.bus.ioWindow('pci-io', 0xc000, 0x4000);
  io.write(t.slot, 0, 0x10, 4, 0xc0001000);
  io.write(t.slot, 0, 0x18, 4, 0x00004000);
  io.write(t.slot, 0, 0x1c, 4, 0x80);
  io.write(t.slot, 0, 0x20, 4, 0xc040);
  win.write(0x1000, bytes(4, 0x11223344));
  assert.equal(t.mem32.bytes[0], 0, 'no decode before the command register enables it');
  assert.equal(le(readAt(win, 0x1000, 4)), 0xffffffff, 'master abort');
  io.write(t.slot, 0, 4, 2, 0x0003);
  win.write(0x1004, bytes(4, 0x11223344));
  assert.equal(le(t.mem32.bytes.subarray(4, 8)), 0x11223344);
  high.write(0x4008, bytes(8, 0x0005060708));
  assert.deepEqual([...t.mem64.bytes.subarray(8, 13)], [8, 7, 6, 5, 0]);
  ports.write(0x42, bytes(2, 0xbeef));
  assert.equal(le(t.io.bytes.subarray(2, 4)), 0xbeef);
  assert.equal(le(readAt(ports, 0x42, 2)), 0xbeef);
  // Move BAR0: the old address aborts, the new one decodes.
  io.write(t.slot, 0, 0x10, 4, 0xc0008000);
  assert.equal(le(readAt(win, 0x1004, 4)), 0xffffffff);
  assert.equal(le(readAt(win, 0x8004, 4)), 0x11223344);
  // An access straddling the BAR's end is not the BAR's.
  assert.equal(le(readAt(win, 0x8ffe, 4)), 0xffffffff);
  // I/O decode off: the port BAR stops answering; memory still does.
  io.write(t.slot, 0, 4, 2, 0x0002);
  assert.equal(le(readAt(ports, 0x42, 2)), 0xffff);
  assert.equal(le(readAt(win, 0x8004, 4)), 0x11223344);
  assert.ok(t.bus.unclaimed >= 4);
});

function readAt(dev: { read(offset: number, data: Uint8Array): void }, offset: number, size: number): Uint8Array {
  const d = new Uint8Array(size);
  dev.read(offset, d);
  return d;
}

test('the capability walk finds MSI-X and ends', () => {
  const { bus, slot } = testBus();
  const io = new ConfigIo(bus.configPorts());
  assert.ok(io.read(slot, 0, 6, 2) & 0x10);
  const found: number[] = [];
  for (let p = io.read(slot, 0, 0x34, 1), n = 0; p !== 0; p = io.read(slot, 0, p + 1, 1), n++) {
    assert.ok(n < 48 && p >= 0x40 && p % 4 === 0, `capability pointer ${p}`);
    found.push(io.read(slot, 0, p, 1));
    if (found.at(-1) === 0x11) {
      assert.equal(io.read(slot, 0, p + 2, 2), 2, 'table size 3 (encoded N-1), disabled');
      assert.equal(io.read(slot, 0, p + 4, 4), 1, 'table in BAR1 at 0');
      assert.equal(io.read(slot, 0, p + 8, 4), 0x801, 'PBA in BAR1 at 0x800');
    }
  }
  assert.deepEqual(found, [0x11]);
});

test('INTx: status bit, the swizzled shared line, INTx Disable, wired-OR between functions', () => {
  const t = testBus();
  const io = new ConfigIo(t.bus.configPorts());
  const other = new PciFunction('other', { ...TEST_IDS, interruptPin: 4 });
  const otherSlot = t.bus.add(other, t.slot + 1);
  const line = t.lines[t.slot % 4]!;
  assert.equal((otherSlot + 3) % 4, t.slot % 4, 'slot+1 INTD shares slot INTA');
  assert.equal(io.read(t.slot, 0, 0x3c, 1), 16 + (t.slot % 4), 'interrupt line preset to the GSI');
  t.fn.setIntx(true);
  assert.equal(line.level, true);
  assert.ok(io.read(t.slot, 0, 6, 2) & 0x08);
  other.setIntx(true);
  t.fn.setIntx(false);
  assert.equal(line.level, true, 'the other function still holds the shared line');
  assert.equal(io.read(t.slot, 0, 6, 2) & 0x08, 0);
  other.setIntx(false);
  assert.equal(line.level, false);
  t.fn.setIntx(true);
  io.write(t.slot, 0, 4, 2, 0x0400);
  assert.equal(line.level, false, 'INTx Disable masks the pin');
  assert.ok(io.read(t.slot, 0, 6, 2) & 0x08, 'but the status bit still shows the request');
  io.write(t.slot, 0, 4, 2, 0);
  assert.equal(line.level, true);
});

test('ECAM reaches the same registers; past 256 bytes of a conventional function reads all ones', () => {
  const { bus, slot } = testBus();
  const ecam = bus.ecam(0xb0000000);
  assert.equal(ecam.size, 1 << 20);
  const at = (s: number, f: number, reg: number) => (s << 15) | (f << 12) | reg;
  assert.equal(le(readAt(ecam, at(slot, 0, 0), 4)), 0x56781234);
  assert.equal(le(readAt(ecam, at(slot, 0, 0x100), 4)), 0xffffffff);
  assert.equal(le(readAt(ecam, at(slot + 3, 0, 0), 4)), 0xffffffff);
  ecam.write(at(slot, 0, 0x10), bytes(4, 0xc0002000));
  assert.equal(le(readAt(ecam, at(slot, 0, 0x10), 4)), 0xc0002000);
  // An unaligned dword is split into naturally aligned pieces.
  assert.equal(le(readAt(ecam, at(slot, 0, 1), 4)), 0x00567812);
});

test('a second function sets the multi-function bit of function 0', () => {
  const { bus, slot } = testBus();
  const io = new ConfigIo(bus.configPorts());
  bus.add(new PciFunction('fn1', TEST_IDS), slot, 1);
  assert.equal(io.read(slot, 0, 0x0e, 1), 0x80);
  assert.equal(io.read(slot, 1, 0, 4), 0x56781234);
  assert.throws(() => bus.add(new PciFunction('dup', TEST_IDS), slot, 1), /already taken/);
  assert.throws(() => bus.add(new PciFunction('orphan', TEST_IDS), slot + 5, 2), /function 0 of the slot/);
});

test('resource assignment places BARs aligned inside the windows and enables decode', () => {
  const t = testBus();
  assignPciResources(t.bus, { mmio32: { base: 0xc0000000, size: 0x10000000 }, mmio64: { base: 0x8000000000, size: 1 << 30 }, io: { base: 0xc000, size: 0x1000 } });
  const maps = t.fn.mappings();
  assert.equal(maps.length, 4);
  for (const m of maps) assert.equal(m.base % m.size, 0, `BAR ${m.bar} aligned`);
  assert.equal(maps.find((m) => m.bar === 2)!.base >= 0x8000000000, true);
  assert.equal(maps.find((m) => m.bar === 4)!.base >= 0xc000, true);
  assert.ok(t.fn.command & 0x4, 'bus master on');
  assert.throws(() => assignPciResources(testBus().bus, { mmio32: { base: 0xc0000000, size: 0x1000 } }), /does not fit/);
});

test('bad construction is refused with a message naming the value', () => {
  const fn = new PciFunction('bad', TEST_IDS);
  const h = { read: () => {}, write: () => {} };
  assert.throws(() => fn.addBar(0, { kind: 'mem32', size: 0x1800, handler: h }), /size 0x1800 must be a power of two/);
  assert.throws(() => fn.addBar(5, { kind: 'mem64', size: 0x1000, handler: h }), /BAR index 5/);
  fn.addBar(0, { kind: 'mem64', size: 0x1000, handler: h });
  assert.throws(() => fn.addBar(1, { kind: 'mem32', size: 0x1000, handler: h }), /BAR 1 is already in use/);
  assert.throws(() => new PciBus({ intx: [new RecordingLine()] }), /needs 4 lines/);
});

test('0xCF9 reset control reaches the monitor only when it asks for it', () => {
  const seen: number[] = [];
  const bus = new PciBus({ intx: [0, 1, 2, 3].map(() => new RecordingLine()), onResetControl: (v) => seen.push(v) });
  const io = new ConfigIo(bus.configPorts());
  io.out(0xcf9, 1, 0x02);
  io.out(0xcf9, 1, 0x06);
  assert.deepEqual(seen, [0x02, 0x06]);
  assert.equal(io.in(0xcf9, 1), 0x06);
  io.out(0xcf8, 4, 0x80000000);
  assert.equal(io.in(0xcf8, 4), 0x80000000, 'the dword address register is unaffected');
  const plain = new ConfigIo(testBus().bus.configPorts());
  plain.out(0xcf9, 1, 0x06);
  assert.equal(plain.in(0xcf9, 1), 0xff, 'not decoded without a handler');
});
