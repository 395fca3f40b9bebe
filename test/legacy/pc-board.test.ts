/** The legacy devices together at their PC addresses, wired through the ISA IRQ routing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ManualClock, type Clock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { CmosRtc } from '../../src/vmm/devices/legacy/cmos-rtc.js';
import { I8042 } from '../../src/vmm/devices/legacy/i8042.js';
import { PC_IO_RANGES, PC_ISA_IRQ } from '../../src/vmm/devices/legacy/pc-layout.js';
import { PostCodePort } from '../../src/vmm/devices/legacy/post-code.js';
import { Serial16550a } from '../../src/vmm/devices/legacy/serial-16550a.js';
import { SystemControlPortA } from '../../src/vmm/devices/legacy/system-control-port-a.js';
import { SystemControlPortB } from '../../src/vmm/devices/legacy/system-control-port-b.js';
import { IOAPIC_BASE, IOAPIC_MMIO_SIZE, IoApic, type IoApicMessage } from '../../src/vmm/irq/ioapic.js';
import { IsaIrqRouting } from '../../src/vmm/irq/isa-irq-routing.js';
import { Pic8259Pair } from '../../src/vmm/irq/pic-8259.js';
import { Pit8254 } from '../../src/vmm/irq/pit-8254.js';
import { PortIo } from './port-io.js';

function board(clock: Clock) {
  const intr = new RecordingLine();
  const pic = new Pic8259Pair(intr);
  const messages: IoApicMessage[] = [];
  const ioapic = new IoApic((m) => messages.push(m));
  const isa = new IsaIrqRouting(pic, ioapic);
  const out: number[] = [];
  let resets = 0;
  const pit = new Pit8254(clock, isa.line(PC_ISA_IRQ.pit));
  const uart = new Serial16550a({ output: (b) => out.push(b), irq: isa.line(PC_ISA_IRQ.com1), clock });
  const rtc = new CmosRtc({ clock, irq: isa.line(PC_ISA_IRQ.rtc), hostDateMs: () => Date.UTC(2026, 0, 1) });
  const kbc = new I8042({ kbdIrq: isa.line(PC_ISA_IRQ.keyboard), auxIrq: isa.line(PC_ISA_IRQ.mouse), onReset: () => resets++ });
  const bus = new DeviceBus();
  bus.add(PC_IO_RANGES.picMaster, pic.masterPorts);
  bus.add(PC_IO_RANGES.picSlave, pic.slavePorts);
  bus.add(PC_IO_RANGES.elcr, pic.elcrPorts);
  bus.add(PC_IO_RANGES.pit, pit);
  bus.add(PC_IO_RANGES.systemControlPortB, new SystemControlPortB(pit, clock));
  bus.add(PC_IO_RANGES.i8042Data, kbc.dataPort);
  bus.add(PC_IO_RANGES.i8042Command, kbc.commandPort);
  bus.add(PC_IO_RANGES.cmosRtc, rtc);
  bus.add(PC_IO_RANGES.postCode, new PostCodePort());
  bus.add(PC_IO_RANGES.systemControlPortA, new SystemControlPortA(() => resets++));
  bus.add(PC_IO_RANGES.com1, uart);
  bus.add({ space: 'mmio', base: IOAPIC_BASE, size: IOAPIC_MMIO_SIZE }, ioapic);
  return { io: new PortIo(bus), pic, intr, messages, pit, uart, rtc, out, resets: () => resets };
}

test('a PC board: the timer tick reaches the PIC as vector 0x30 and I/O APIC pin 2; COM1 reaches IRQ4', () => {
  const clock = new ManualClock(0);
  const { io, pic, intr, messages, pit, out } = board(clock);
  io.outb(0x21, 0xff); io.outb(0xa1, 0xff);
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, 0x01);
  io.outb(0xa0, 0x11); io.outb(0xa1, 0x38); io.outb(0xa1, 0x02); io.outb(0xa1, 0x01);
  io.outb(0x21, 0xea); io.outb(0xa1, 0xff);                   // IRQ0, IRQ2, IRQ4 unmasked
  io.writel(IOAPIC_BASE, 0x14); io.writel(IOAPIC_BASE + 0x10, 0x30);   // pin 2 -> vector 0x30
  io.outb(0x43, 0x34); io.outb(0x40, 1193 & 0xff); io.outb(0x40, 1193 >> 8);
  clock.advance(pit.poll(clock.now()) - clock.now());
  pit.poll(clock.now());
  assert.equal(intr.level, true);
  assert.equal(pic.acknowledge(), 0x30);
  assert.deepEqual(messages.map((m) => [m.pin, m.vector]), [[2, 0x30]]);
  io.outb(0x20, 0x60);
  io.outb(0x3fb, 0x03); io.outb(0x3fc, 0x0b); io.outb(0x3f9, 0x02);
  assert.equal(pic.acknowledge(), 0x34);
  for (const ch of 'ok\n') io.outb(0x3f8, ch.charCodeAt(0));
  assert.equal(String.fromCharCode(...out), 'ok\n');
  io.outb(0x80, 0);                      // outb_p's delay write goes somewhere
});

test("with the host's clock, the pit_calibrate_tsc loop sees OUT2 rise (time really passes)", () => {
  const hostClock: Clock = { now: () => Number(process.hrtime.bigint()) };
  const { io } = board(hostClock);
  io.outb(0x61, (io.inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  const latch = Math.floor(1193182 / 1000);   // 1 ms
  const start = hostClock.now();
  io.outb(0x42, latch & 0xff); io.outb(0x42, latch >> 8);
  let reads = 0;
  while ((io.inb(0x61) & 0x20) === 0) reads++;
  assert.ok(hostClock.now() - start >= (latch / 1193182) * 1e9, 'not before the count ran out');
  assert.ok(reads > 0, 'OUT2 was low while counting');
  io.outb(0x43, 0x80);
  const lsb = io.inb(0x42), msb = io.inb(0x42);
  assert.ok((lsb | msb << 8) > latch, 'mode 0 wraps past zero and keeps counting down');
});

test('the RTC and the i8042 answer at their PC ports; 0xfe on 0x64 asks for a reset', () => {
  const { io, resets } = board(new ManualClock(0));
  io.outb(0x70, 0x09);
  assert.equal(io.inb(0x71), 0x26);
  io.outb(0x64, 0xaa);
  assert.equal(io.inb(0x60), 0x55);
  io.outb(0x64, 0xfe);
  assert.equal(resets(), 1);
});
