import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus } from '../../src/vmm/bus.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { Pic8259Pair } from '../../src/vmm/irq/pic-8259.js';
import { PortIo } from './port-io.js';

function setup(autoEoi = false) {
  const intr = new RecordingLine();
  const pic = new Pic8259Pair(intr);
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x20, size: 2 }, pic.masterPorts);
  bus.add({ space: 'io', base: 0xa0, size: 2 }, pic.slavePorts);
  bus.add({ space: 'io', base: 0x4d0, size: 2 }, pic.elcrPorts);
  const io = new PortIo(bus);
  // arch/x86/kernel/i8259.c init_8259A, in its order.
  io.outb(0x21, 0xff); io.outb(0xa1, 0xff);
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, autoEoi ? 0x03 : 0x01);
  io.outb(0xa0, 0x11); io.outb(0xa1, 0x38); io.outb(0xa1, 0x02); io.outb(0xa1, autoEoi ? 0x03 : 0x01);
  io.outb(0x21, 0xfb); io.outb(0xa1, 0xff);   // cached masks: all masked but the cascade
  return { intr, pic, io };
}

/** Linux's mask_and_ack_8259A for irq, then the EOI it sends (specific EOI to the slave and master). */
function linuxEoi(io: PortIo, irq: number): void {
  if (irq >= 8) { io.outb(0xa0, 0x60 + (irq & 7)); io.outb(0x20, 0x62); }
  else io.outb(0x20, 0x60 + irq);
}

test('probe_8259A: the mask register reads back what was written', () => {
  const { io } = setup();
  io.outb(0xa1, 0xff); io.outb(0x21, 0xa5);
  assert.equal(io.inb(0x21), 0xa5);
});

test('an unmasked edge on IRQ1 raises INT; acknowledge gives vector 0x31 and sets ISR; EOI clears it', () => {
  const { io, pic, intr } = setup();
  io.outb(0x21, 0xf9);                  // unmask IRQ1
  pic.input(1).pulse();
  assert.equal(intr.level, true);
  assert.equal(pic.hasInterrupt(), true);
  io.outb(0x20, 0x0a);
  assert.equal(io.inb(0x20), 0x02, 'IRR via OCW3');
  assert.equal(pic.acknowledge(), 0x31);
  assert.equal(intr.level, false);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0x02, 'ISR via OCW3');
  assert.equal(io.inb(0x20), 0x02, 'the read select sticks');
  linuxEoi(io, 1);
  assert.equal(io.inb(0x20), 0);
});

test('masked requests wait in IRR and are delivered on unmask', () => {
  const { io, pic } = setup();
  pic.input(4).pulse();
  assert.equal(pic.hasInterrupt(), false);
  io.outb(0x21, 0xeb);
  assert.equal(pic.acknowledge(), 0x34);
});

test('priority: IRQ0 beats IRQ3; a lower request waits for the EOI of a higher one; a higher nests', () => {
  const { io, pic } = setup();
  io.outb(0x21, 0x00);
  pic.input(3).pulse(); pic.input(0).pulse();
  assert.equal(pic.acknowledge(), 0x30);
  assert.equal(pic.hasInterrupt(), false, 'IRQ3 is lower than IRQ0 in service');
  linuxEoi(io, 0);
  assert.equal(pic.acknowledge(), 0x33);
  pic.input(1).pulse();
  assert.equal(pic.acknowledge(), 0x31, 'IRQ1 nests over IRQ3');
  io.outb(0x20, 0x20);                  // non-specific EOI: clears the highest in service (IRQ1)
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0x08);
});

test('slave IRQ8 cascades through IR2: vector 0x38, both ISRs set, Linux EOIs both', () => {
  const { io, pic } = setup();
  io.outb(0xa1, 0xfe);
  pic.input(8).pulse();
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x38);
  io.outb(0x20, 0x0b); io.outb(0xa0, 0x0b);
  assert.equal(io.inb(0x20), 0x04);
  assert.equal(io.inb(0xa0), 0x01);
  linuxEoi(io, 8);
  assert.equal(io.inb(0x20), 0);
  assert.equal(io.inb(0xa0), 0);
  // A second slave request after the EOI is a new edge on IR2.
  pic.input(8).pulse();
  assert.equal(pic.acknowledge(), 0x38);
});

test('two slave requests are delivered one after the other (the cascade edge is renewed)', () => {
  const { io, pic } = setup(true);      // auto-EOI on both: the slave keeps INT high across the acknowledge
  io.outb(0xa1, 0x00);
  pic.input(9).pulse(); pic.input(12).pulse();
  assert.equal(pic.acknowledge(), 0x39);
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x3c);
  assert.equal(pic.hasInterrupt(), false);
});

test('spurious: nothing pending gives IRQ7 without ISR; a vanished slave level gives IRQ15 with master ISR2', () => {
  const { io, pic } = setup();
  assert.equal(pic.acknowledge(), 0x37);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0);
  io.outb(0x4d1, 0x02);                 // IRQ9 level-triggered
  assert.equal(io.inb(0x4d1), 0x02);
  io.outb(0xa1, 0xfd);
  pic.input(9).set(true);
  assert.equal(pic.hasInterrupt(), true);
  pic.slave.setInput(1, false);         // the device drops its level before INTA reaches the slave...
  pic.master.setInput(2, true);         // ...while the master still has the cascade request latched
  assert.equal(pic.acknowledge(), 0x3f);
  io.outb(0x20, 0x0b); io.outb(0xa0, 0x0b);
  assert.equal(io.inb(0x20), 0x04);
  assert.equal(io.inb(0xa0), 0);
});

test('level-triggered (ELCR): the request re-asserts after EOI while the line stays high, not after it drops', () => {
  const { io, pic } = setup();
  io.outb(0x4d0, 0xff);
  assert.equal(io.inb(0x4d0), 0xf8, 'IRQ0-2 cannot be level-triggered');
  io.outb(0x21, 0x00);
  const line = pic.input(5);
  line.set(true);
  assert.equal(pic.acknowledge(), 0x35);
  linuxEoi(io, 5);
  assert.equal(pic.hasInterrupt(), true, 'still asserted');
  assert.equal(pic.acknowledge(), 0x35);
  line.set(false);
  linuxEoi(io, 5);
  assert.equal(pic.hasInterrupt(), false);
  io.outb(0x20, 0x0a);
  assert.equal(io.inb(0x20) & 0x20, 0, 'IRR follows the level');
});

test('edge inputs: holding the line high is one request; ICW1 restarts edge sensing', () => {
  const { io, pic } = setup();
  io.outb(0x21, 0x00);
  pic.input(6).set(true);
  assert.equal(pic.acknowledge(), 0x36);
  linuxEoi(io, 6);
  pic.input(6).set(true);
  assert.equal(pic.hasInterrupt(), false, 'no new edge');
  pic.input(6).set(false); pic.input(6).set(true);
  assert.equal(pic.acknowledge(), 0x36);
});

test('rotation: rotate on non-specific EOI makes the served level lowest; set priority command', () => {
  const { io, pic } = setup();
  io.outb(0x21, 0x00);
  pic.input(1).pulse();
  assert.equal(pic.acknowledge(), 0x31);
  io.outb(0x20, 0xa0);                  // rotate on non-specific EOI: IRQ1 now lowest, IRQ2 highest
  pic.input(0).pulse(); pic.input(3).pulse();
  assert.equal(pic.acknowledge(), 0x33, 'IRQ3 outranks IRQ0 after the rotation');
  io.outb(0x20, 0x20);
  assert.equal(pic.acknowledge(), 0x30);
  io.outb(0x20, 0xc4);                  // set priority: IRQ4 lowest, IRQ5 highest
  io.outb(0x20, 0x20);
  pic.input(0).pulse(); pic.input(6).pulse();
  assert.equal(pic.acknowledge(), 0x36);
});

test('auto-EOI leaves ISR clear; rotate in auto-EOI mode rotates on each acknowledge', () => {
  const { io, pic } = setup(true);
  io.outb(0x21, 0x00);
  pic.input(3).pulse();
  assert.equal(pic.acknowledge(), 0x33);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0);
  io.outb(0x20, 0x80);                  // set rotate in auto-EOI
  pic.input(3).pulse();
  assert.equal(pic.acknowledge(), 0x33);
  pic.input(1).pulse(); pic.input(4).pulse();
  assert.equal(pic.acknowledge(), 0x34, 'IRQ3 became lowest, so IRQ4 is highest');
});

test('poll command: the next read of port 0x20 gives 0x80|level and acknowledges it', () => {
  const { io, pic } = setup();
  io.outb(0x21, 0x00);
  io.outb(0x20, 0x0c);
  assert.equal(io.inb(0x20), 0, 'nothing pending');
  pic.input(5).pulse();
  io.outb(0x20, 0x0c);
  assert.equal(io.inb(0x20), 0x85);
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0x20);
  assert.equal(pic.hasInterrupt(), false);
});

test('special mask mode lets lower levels in while a masked level is in service', () => {
  const { io, pic } = setup();
  io.outb(0x21, 0x00);
  pic.input(1).pulse();
  assert.equal(pic.acknowledge(), 0x31);
  pic.input(5).pulse();
  assert.equal(pic.hasInterrupt(), false);
  io.outb(0x20, 0x68);                  // set special mask mode
  io.outb(0x21, 0x02);                  // mask IRQ1 (in service)
  assert.equal(pic.acknowledge(), 0x35);
  io.outb(0x20, 0x48);                  // reset special mask mode
  io.outb(0x20, 0x0b);
  assert.equal(io.inb(0x20), 0x22);
});

test('special fully nested mode: a higher slave request interrupts an in-service slave request', () => {
  const { io, pic } = setup();
  io.outb(0x20, 0x11); io.outb(0x21, 0x30); io.outb(0x21, 0x04); io.outb(0x21, 0x11);   // ICW4 SFNM
  io.outb(0x21, 0x00); io.outb(0xa1, 0x00);
  pic.input(12).pulse();
  assert.equal(pic.acknowledge(), 0x3c);
  pic.input(8).pulse();
  assert.equal(pic.acknowledge(), 0x38, 'without SFNM the master would hold this back');
});

test('single mode (no cascade): IR2 is an ordinary input with its own vector', () => {
  const { io, pic } = setup();
  io.outb(0x20, 0x13); io.outb(0x21, 0x40); io.outb(0x21, 0x01);   // ICW1 SNGL|IC4: no ICW3
  io.outb(0x21, 0x00); io.outb(0xa1, 0x00);
  pic.input(8).pulse();                 // the slave still drives IR2
  assert.equal(pic.acknowledge(), 0x42);
});

test('input(2) and acknowledging an 8080-mode PIC are clear errors', () => {
  const { io, pic } = setup();
  assert.throws(() => pic.input(2), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && /cascade IRQ2/.test(e.message));
  assert.throws(() => pic.input(16), VmmError);
  io.outb(0x20, 0x10);                  // ICW1 without ICW4
  io.outb(0x21, 0x30); io.outb(0x21, 0x04);
  assert.throws(() => pic.acknowledge(), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /8086 mode/.test(e.message));
});
