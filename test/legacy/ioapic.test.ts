import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus } from '../../src/vmm/bus.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { IOAPIC_BASE, IoApic, type IoApicMessage } from '../../src/vmm/irq/ioapic.js';
import { IsaIrqRouting, SplitLine } from '../../src/vmm/irq/isa-irq-routing.js';
import { Pic8259Pair } from '../../src/vmm/irq/pic-8259.js';
import { PortIo } from './port-io.js';

function setup() {
  const sent: IoApicMessage[] = [];
  const ioapic = new IoApic((m) => sent.push(m));
  const bus = new DeviceBus();
  bus.add({ space: 'mmio', base: IOAPIC_BASE, size: 0x1000 }, ioapic);
  const io = new PortIo(bus);
  const reg = (index: number): number => { io.writel(IOAPIC_BASE, index); return io.readl(IOAPIC_BASE + 0x10); };
  const setReg = (index: number, v: number): void => { io.writel(IOAPIC_BASE, index); io.writel(IOAPIC_BASE + 0x10, v); };
  const route = (pin: number, low: number, dest = 0): void => { setReg(0x10 + 2 * pin + 1, dest << 24); setReg(0x10 + 2 * pin, low); };
  return { sent, ioapic, io, reg, setReg, route };
}

test('identification: version 0x20 with 24 entries, writable 4-bit id, all pins masked at reset', () => {
  const { reg, setReg, io } = setup();
  assert.equal(reg(1), 0x00170020);
  setReg(0, 0x0f000000 | 0xffffff);
  assert.equal(reg(0), 0x0f000000);
  io.writel(IOAPIC_BASE, 0x15);
  assert.equal(io.readl(IOAPIC_BASE), 0x15, 'IOREGSEL reads back');
  for (let pin = 0; pin < 24; pin++) assert.equal(reg(0x10 + 2 * pin), 0x10000, `pin ${pin} masked`);
  assert.equal(reg(0x40), 0, 'past the table: nothing');
});

test('edge pin: one message per rising edge, nothing while masked (the edge is lost)', () => {
  const { sent, ioapic, route } = setup();
  route(4, 0x24, 1);                       // fixed, physical, edge, active high, unmasked
  const line = ioapic.input(4);
  line.set(true); line.set(true); line.set(false); line.pulse();
  assert.deepEqual(sent, [
    { pin: 4, vector: 0x24, deliveryMode: 'fixed', destinationMode: 'physical', destination: 1, trigger: 'edge' },
    { pin: 4, vector: 0x24, deliveryMode: 'fixed', destinationMode: 'physical', destination: 1, trigger: 'edge' },
  ]);
  route(4, 0x10000 | 0x24, 1);
  line.pulse();
  route(4, 0x24, 1);
  assert.equal(sent.length, 2);
});

test('level pin: remote IRR holds off redelivery until EOI; EOI with the line high delivers again', () => {
  const { sent, ioapic, route, reg, io } = setup();
  route(10, 0x8000 | 0x2000 | 0x31, 0);    // level, active low (polarity kept only)
  const line = ioapic.input(10);
  line.set(true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.trigger, 'level');
  assert.equal(reg(0x10 + 20) & 0x4000, 0x4000, 'remote IRR set');
  line.set(false); line.set(true);
  assert.equal(sent.length, 1, 'no redelivery while remote IRR');
  ioapic.endOfInterrupt(0x30);
  assert.equal(sent.length, 1, 'another vector does not match');
  ioapic.endOfInterrupt(0x31);
  assert.equal(sent.length, 2, 'still asserted at EOI: delivered again');
  line.set(false);
  io.writel(IOAPIC_BASE + 0x40, 0x31);     // the version 0x20 EOI register
  assert.equal(reg(0x10 + 20) & 0x4000, 0);
  assert.equal(sent.length, 2);
  assert.equal(ioapic.activeLow(10), true);
});

test('level pin masked while asserted delivers on unmask; edge-mode write clears a stuck remote IRR', () => {
  const { sent, ioapic, route, reg } = setup();
  route(11, 0x18000 | 0x41);               // level, masked
  ioapic.input(11).set(true);
  assert.equal(sent.length, 0);
  route(11, 0x8000 | 0x41);
  assert.equal(sent.length, 1);
  route(11, 0x41);                         // Linux's trick for old I/O APICs: edge then level
  assert.equal(reg(0x10 + 22) & 0x4000, 0);
  route(11, 0x8000 | 0x41);
  assert.equal(sent.length, 2, 'asserted, unmasked, no remote IRR: delivered');
});

test('delivery modes, logical destination; reserved modes and bad pins are errors', () => {
  const { sent, ioapic, route } = setup();
  const modes = [[0, 'fixed'], [1, 'lowest-priority'], [2, 'smi'], [4, 'nmi'], [5, 'init'], [7, 'extint']] as const;
  for (const [code, name] of modes) {
    route(0, code << 8 | 0x800 | 0x50, 0x0f);
    ioapic.input(0).pulse();
    assert.deepEqual({ m: sent.at(-1)!.deliveryMode, d: sent.at(-1)!.destinationMode, dest: sent.at(-1)!.destination }, { m: name, d: 'logical', dest: 0x0f });
  }
  route(0, 3 << 8);
  assert.throws(() => ioapic.input(0).pulse(), (e: unknown) => e instanceof VmmError && /reserved delivery mode 3/.test(e.message));
  assert.throws(() => ioapic.input(24), VmmError);
});

test('remote IRR and delivery status are read-only; reserved bits read as zero', () => {
  const { reg, setReg } = setup();
  setReg(0x10, 0xffffffff);
  assert.equal(reg(0x10), 0x0001afff);
  setReg(0x11, 0xffffffff);
  assert.equal(reg(0x11), 0xff000000);
});

test('IOWIN accepts only 32-bit accesses', () => {
  const { ioapic } = setup();
  assert.throws(() => ioapic.read(0x10, new Uint8Array(2)), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  assert.throws(() => ioapic.write(0x12, new Uint8Array(4)), VmmError);
});

test('ISA routing: one device wire drives PIC IRQn and I/O APIC pin n; IRQ0 reaches pin 2', () => {
  const sent: IoApicMessage[] = [];
  const ioapic = new IoApic((m) => sent.push(m));
  const intr = new RecordingLine();
  const pic = new Pic8259Pair(intr);
  const isa = new IsaIrqRouting(pic, ioapic);
  const bus = new DeviceBus();
  bus.add({ space: 'mmio', base: IOAPIC_BASE, size: 0x1000 }, ioapic);
  bus.add({ space: 'io', base: 0x20, size: 2 }, pic.masterPorts);
  const io = new PortIo(bus);
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, 0x01); io.outb(0x21, 0x00);
  for (const [pin, vector] of [[2, 0x30], [4, 0x34]] as const) {
    io.writel(IOAPIC_BASE, 0x10 + 2 * pin); io.writel(IOAPIC_BASE + 0x10, vector);
  }
  isa.line(0).pulse();
  isa.line(4).pulse();
  assert.deepEqual(sent.map((m) => [m.pin, m.vector]), [[2, 0x30], [4, 0x34]]);
  assert.equal(pic.acknowledge(), 0x30);
  assert.throws(() => isa.line(2), VmmError);
  const a = new RecordingLine(), b = new RecordingLine();
  const split = new SplitLine(a, b);
  split.set(true);
  split.pulse();
  assert.deepEqual([a.level, a.edges, b.level, b.edges], [true, 2, true, 2]);
});
