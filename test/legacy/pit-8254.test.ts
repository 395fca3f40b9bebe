import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { Pit8254 } from '../../src/vmm/irq/pit-8254.js';
import { SystemControlPortB } from '../../src/vmm/devices/legacy/system-control-port-b.js';
import { PIT_TIMEBASE, Timebase } from '../../src/vmm/devices/legacy/timebase.js';
import { PortIo } from './port-io.js';

/** A PIT on a bus with port 0x61, and a clock whose time is counted in PIT ticks. */
function setup() {
  const clock = new ManualClock(0);
  const irq = new RecordingLine();
  const pit = new Pit8254(clock, irq);
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x40, size: 4 }, pit);
  bus.add({ space: 'io', base: 0x61, size: 1 }, new SystemControlPortB(pit, clock));
  const io = new PortIo(bus);
  /** Moves the clock to the start of PIT tick t. */
  const at = (t: number): void => { clock.advance(PIT_TIMEBASE.nsAtTick(t) - clock.now()); };
  const tick = (): number => PIT_TIMEBASE.tickAt(clock.now());
  return { clock, irq, pit, io, at, tick };
}

test('timebase converts ns and ticks exactly both ways, far from zero too', () => {
  // Up to 2^53 ns (104 days of a monotonic clock), the limit of exact ns in a number.
  for (const [tb, top] of [[PIT_TIMEBASE, 2 ** 40 + 7], [new Timebase(32768), 2 ** 37 + 3]] as const) {
    for (const tick of [0, 1, 2, 1193181, 1193182, 1193183, 123456789012, top]) {
      const ns = tb.nsAtTick(tick);
      assert.equal(tb.tickAt(ns), tick, `tick ${tick}`);
      assert.equal(tb.tickAt(ns - 1), tick - 1, `just before tick ${tick}`);
    }
  }
  assert.equal(PIT_TIMEBASE.tickAt(1e9), 1193182);
  assert.equal(PIT_TIMEBASE.tickAt(3600e9), 3600 * 1193182);
});

test('mode 0 counts down from the count one clock after it is written; OUT and IRQ0 rise at zero', () => {
  const { io, at, irq, pit, clock } = setup();
  at(1000);
  io.outb(0x43, 0x30);             // counter 0, LSB then MSB, mode 0, binary
  assert.equal(irq.level, false, 'mode 0 OUT goes low on the control word');
  io.outb(0x40, 100); io.outb(0x40, 0);
  const edges0 = irq.edges;
  at(1001);                         // the count is loaded on this clock
  io.outb(0x43, 0x00);              // latch
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 100);
  at(1051);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 50);
  const deadline = pit.poll(clock.now());
  assert.equal(PIT_TIMEBASE.tickAt(deadline), 1101, 'terminal count 100 ticks after the load');
  assert.equal(irq.edges, edges0);
  at(1100);
  assert.equal(pit.poll(clock.now()), deadline);
  assert.equal(irq.level, false);
  at(1101);
  assert.equal(pit.poll(clock.now()), Infinity, 'mode 0 raises OUT once');
  assert.equal(irq.edges, edges0 + 1);
  assert.equal(irq.level, true);
  at(1102);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 0xffff, 'the counter wraps and keeps counting');
});

test('mode 2 (Linux periodic tick, 0x34 then LATCH) interrupts once per period; late polls merge edges', () => {
  const { io, at, irq, pit, clock } = setup();
  at(0);
  pit.poll(clock.now());
  const edges0 = irq.edges;
  io.outb(0x43, 0x34);
  const LATCH = 1193;               // (1193182 + HZ/2) / HZ for HZ=1000
  io.outb(0x40, LATCH & 0xff); io.outb(0x40, LATCH >> 8);
  // Loaded at tick 1; edges at 1 + k*LATCH.
  assert.equal(PIT_TIMEBASE.tickAt(pit.poll(clock.now())), 1 + LATCH);
  for (let k = 1; k <= 5; k++) {
    at(1 + k * LATCH);
    const next = pit.poll(clock.now());
    assert.equal(irq.edges, edges0 + k);
    assert.equal(PIT_TIMEBASE.tickAt(next), 1 + (k + 1) * LATCH);
  }
  at(1 + 5 * LATCH + LATCH - 1);     // the one tick where OUT is low (count 1)
  pit.poll(clock.now());
  assert.equal(irq.level, false);
  at(1 + 100 * LATCH + 7);           // many periods missed: one edge, as the PIC would merge them
  pit.poll(clock.now());
  assert.equal(irq.edges, edges0 + 6);
  assert.equal(irq.level, true);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, LATCH - 7);
});

test('mode 2: a new count takes effect when the current period ends', () => {
  const { io, at, pit, clock } = setup();
  at(0);
  io.outb(0x43, 0x34); io.outb(0x40, 100); io.outb(0x40, 0);   // loaded at 1, periods end at 101, 201...
  at(50);
  io.outb(0x40, 10); io.outb(0x40, 0);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40), 51, 'still counting the old period');
  io.inb(0x40);
  assert.equal(PIT_TIMEBASE.tickAt(pit.poll(clock.now())), 101);
  at(101);
  assert.equal(PIT_TIMEBASE.tickAt(pit.poll(clock.now())), 111, 'then periods of 10');
  at(105);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40), 6);
});

test('mode 3 square wave: OUT high for the first half, low for the second; counts by 2', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0xb6);               // counter 2, LSB/MSB, mode 3 (the PC speaker setting)
  io.outb(0x42, 10); io.outb(0x42, 0);
  io.outb(0x61, 0x01);               // gate 2 high: counting restarts on the next clock (tick 1)
  const outs: number[] = [], counts: number[] = [];
  for (let t = 1; t < 1 + 20; t++) {
    at(t);
    outs.push(io.inb(0x61) >> 5 & 1);
    io.outb(0x43, 0x80);
    counts.push(io.inb(0x42) | io.inb(0x42) << 8);
  }
  assert.deepEqual(outs, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(counts.slice(0, 10), [10, 8, 6, 4, 2, 10, 8, 6, 4, 2]);
});

test('mode 3 odd count: high one clock longer than low', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0xb6); io.outb(0x42, 5); io.outb(0x42, 0); io.outb(0x61, 0x01);
  const outs: number[] = [];
  for (let t = 1; t < 11; t++) { at(t); outs.push(io.inb(0x61) >> 5 & 1); }
  assert.deepEqual(outs, [1, 1, 1, 0, 0, 1, 1, 1, 0, 0]);
});

test('pit_calibrate_tsc path: gate on, counter 2 mode 0, poll port 0x61 bit 5 until OUT2 rises', () => {
  const { io, at, tick } = setup();
  at(12345);
  io.outb(0x61, (io.inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  const latch = Math.floor(1193182 / (1000 / 50));   // CAL_MS = 50
  io.outb(0x42, latch & 0xff); io.outb(0x42, latch >> 8);
  const start = tick();
  let reads = 0;
  while ((io.inb(0x61) & 0x20) === 0) {
    at(tick() + 97);                 // host time passing between the guest's reads
    if (++reads > 10000) assert.fail('OUT2 never rose');
  }
  const elapsed = tick() - start;
  assert.ok(elapsed >= latch + 1 && elapsed < latch + 1 + 97, `OUT2 rose after ${elapsed} ticks (count ${latch})`);
});

test('quick_pit_calibrate path: counter 2 mode 0 count 0xffff, the MSB read directly falls by one every 256 ticks', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x61, (io.inb(0x61) & ~0x02) | 0x01);
  io.outb(0x43, 0xb0);
  io.outb(0x42, 0xff); io.outb(0x42, 0xff);
  for (let i = 0; i < 10; i++) {
    at(1 + 256 * i + 3);
    io.inb(0x42);                    // LSB, as pit_expect_msb does, then the MSB
    assert.equal(io.inb(0x42), 0xff - i);
  }
});

test('the gate pauses mode 0 and restarts mode 2; refresh bit 4 toggles with time', () => {
  const { io, at, clock } = setup();
  at(0);
  io.outb(0x61, 0x01);
  io.outb(0x43, 0xb0); io.outb(0x42, 200); io.outb(0x42, 0);   // loaded at 1
  at(51);
  io.outb(0x61, 0x00);
  at(500);
  io.outb(0x43, 0x80);
  assert.equal(io.inb(0x42), 150, 'paused while the gate is low');
  io.inb(0x42);
  io.outb(0x61, 0x01);               // resumes on the next clock
  at(511);
  io.outb(0x43, 0x80);
  assert.equal(io.inb(0x42), 140);
  io.inb(0x42);
  io.outb(0x43, 0xb4); io.outb(0x42, 100); io.outb(0x42, 0);   // mode 2, loaded at 512
  at(560);
  io.outb(0x61, 0x00);
  assert.equal(io.inb(0x61) & 0x20, 0x20, 'mode 2 OUT is high while the gate is low');
  at(600);
  io.outb(0x61, 0x01);               // restart: reloaded at 601
  at(611);
  io.outb(0x43, 0x80);
  assert.equal(io.inb(0x42), 90);
  io.inb(0x42);
  const bits = new Set<number>();
  for (let i = 0; i < 8; i++) { clock.advance(7_000); bits.add(io.inb(0x61) & 0x10); }
  assert.deepEqual([...bits].sort(), [0, 0x10]);
});

test('read-back latches status and count; status shows OUT, null count, access, mode, BCD', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0x33);               // counter 0, LSB/MSB, mode 1, BCD
  io.outb(0x43, 0xe2);               // read-back status only, counter 0
  assert.equal(io.inb(0x40), 0x80 | 0x40 | 0x30 | 0x02 | 0x01, 'OUT high, null count (no count yet)');
  io.outb(0x43, 0x34); io.outb(0x40, 0x34); io.outb(0x40, 0x12);
  at(10);
  io.outb(0x43, 0xc2);               // status and count, counter 0
  assert.equal(io.inb(0x40), 0x80 | 0x30 | 0x04, 'status first: loaded, mode 2');
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 0x1234 - 9);
  at(20);
  io.outb(0x43, 0x00); at(30); io.outb(0x43, 0x00);   // a second latch is ignored until read
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 0x1234 - 19);
});

test('BCD counting and the LSB-only / MSB-only access modes', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0x11);                // counter 0, LSB only, mode 0, BCD
  io.outb(0x40, 0x25);                // 25 decimal
  at(11);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40), 0x15, '25 - 10 = 15, in BCD');
  io.outb(0x43, 0x20);                // MSB only, mode 0, binary
  io.outb(0x40, 0x02);                // 0x200
  at(11 + 1 + 0x100);
  assert.equal(io.inb(0x40), 0x01);
  io.outb(0x43, 0x31); io.outb(0x40, 0); io.outb(0x40, 0);   // BCD 0 = 10000
  at(11 + 1 + 0x100 + 2);
  io.outb(0x43, 0x00);
  assert.equal(io.inb(0x40) | io.inb(0x40) << 8, 0x9999);
});

test('mode 4 strobes OUT low for one clock at terminal count: one IRQ0 edge (Linux oneshot, 0x38)', () => {
  const { io, at, pit, clock, irq } = setup();
  at(0);
  pit.poll(clock.now());
  io.outb(0x43, 0x38); io.outb(0x40, 50); io.outb(0x40, 0);
  const e0 = irq.edges;
  assert.equal(PIT_TIMEBASE.tickAt(pit.poll(clock.now())), 52);
  at(51);
  pit.poll(clock.now());
  assert.equal(irq.level, false);
  at(52);
  assert.equal(pit.poll(clock.now()), Infinity);
  assert.equal(irq.edges, e0 + 1);
  at(100000);
  pit.poll(clock.now());
  assert.equal(irq.edges, e0 + 1, 'no second strobe');
});

test('mode 1 and 5 wait for a gate edge (counter 2)', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0xb2); io.outb(0x42, 20); io.outb(0x42, 0);
  at(10);
  assert.equal(io.inb(0x61) & 0x20, 0x20, 'mode 1 OUT stays high until triggered');
  io.outb(0x61, 1);                  // trigger: loaded at 11
  at(12);
  assert.equal(io.inb(0x61) & 0x20, 0);
  at(31);
  assert.equal(io.inb(0x61) & 0x20, 0x20);
  io.outb(0x43, 0xba); io.outb(0x42, 5); io.outb(0x42, 0);    // mode 5
  io.outb(0x61, 0); at(40); io.outb(0x61, 1);                   // loaded at 41, strobe at 46
  const outs: number[] = [];
  for (let t = 44; t < 49; t++) { at(t); outs.push(io.inb(0x61) >> 5 & 1); }
  assert.deepEqual(outs, [1, 1, 0, 1, 1]);
});

test('a 16-bit IN of port 0x40 reads counter 0 then counter 1, as the ISA bus splits it', () => {
  const { io, at } = setup();
  at(0);
  io.outb(0x43, 0x10); io.outb(0x40, 0x80);   // counter 0 LSB only
  io.outb(0x43, 0x50); io.outb(0x41, 0x40);   // counter 1 LSB only
  at(1);
  assert.equal(io.inw(0x40), 0x4080);
  assert.equal(io.inb(0x43), 0xff, 'the control port reads as open bus');
});
