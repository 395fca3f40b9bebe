import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { CmosRtc, UIP_LEAD_NS } from '../../src/vmm/devices/legacy/cmos-rtc.js';
import { PortIo } from './port-io.js';

/** Sunday 2026-12-06 23:59:58.250 UTC. */
const DATE_MS = Date.UTC(2026, 11, 6, 23, 59, 58, 250);

function setup(ram?: { belowFourGiB: number; aboveFourGiB?: number }) {
  const clock = new ManualClock(5_000_000_000);
  const irq = new RecordingLine();
  const rtc = new CmosRtc({ clock, irq, hostDateMs: () => DATE_MS, ram });
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x70, size: 2 }, rtc);
  const io = new PortIo(bus);
  const cmos = (i: number): number => { io.outb(0x70, i); return io.inb(0x71); };
  const setCmos = (i: number, v: number): void => { io.outb(0x70, i); io.outb(0x71, v); };
  return { clock, irq, rtc, io, cmos, setCmos };
}

/** mc146818_get_time: wait for UIP to clear, then read the fields (with the century). */
function readTime(cmos: (i: number) => number, clock: ManualClock): number[] {
  for (let i = 0; cmos(0x0a) & 0x80; i++) {
    clock.advance(50_000);
    if (i > 100) assert.fail('UIP never cleared');
  }
  return [0x32, 0x09, 0x08, 0x07, 0x04, 0x02, 0x00, 0x06].map(cmos);
}

test('reads the host date in BCD and 24-hour form, as firmware leaves register B', () => {
  const { cmos, clock } = setup();
  assert.deepEqual(readTime(cmos, clock), [0x20, 0x26, 0x12, 0x06, 0x23, 0x59, 0x58, 0x01]);
  assert.equal(cmos(0x0b), 0x02);
  assert.equal(cmos(0x0d), 0x80, 'valid RAM and time');
});

test('binary and 12-hour modes; the clock rolls over midnight, the month and the weekday', () => {
  const { cmos, setCmos, clock } = setup();
  setCmos(0x0b, 0x04);                  // binary, 12-hour
  assert.deepEqual(readTime(cmos, clock), [20, 26, 12, 6, 0x80 | 11, 59, 58, 1]);
  clock.advance(2e9);                   // 00:00:00.25 on Monday the 7th
  assert.deepEqual(readTime(cmos, clock), [20, 26, 12, 7, 12, 0, 0, 2]);
  setCmos(0x0b, 0x06);
  assert.equal(cmos(0x04), 0);
});

test('UIP reads 1 only in the 244 us before each update', () => {
  const { cmos, clock } = setup();
  clock.advance(750_000_000 - UIP_LEAD_NS - 1);   // just before the window of second :59
  assert.equal(cmos(0x0a) & 0x80, 0);
  clock.advance(2);
  assert.equal(cmos(0x0a) & 0x80, 0x80);
  assert.equal(cmos(0x00), 0x58, 'still the old second');
  clock.advance(UIP_LEAD_NS);
  assert.equal(cmos(0x0a) & 0x80, 0);
  assert.equal(cmos(0x00), 0x59);
});

test('guest sets the time (mc146818_set_time: SET, divider reset, fields, restore): kept as an offset', () => {
  const { cmos, setCmos, clock, rtc } = setup();
  const saveB = cmos(0x0b), saveA = cmos(0x0a);
  setCmos(0x0b, saveB | 0x80);
  setCmos(0x0a, saveA | 0x70);
  for (const [i, v] of [[0x09, 0x30], [0x08, 0x01], [0x07, 0x02], [0x04, 0x03], [0x02, 0x04], [0x00, 0x05], [0x32, 0x20]]) setCmos(i!, v!);
  clock.advance(3e9);
  assert.equal(cmos(0x00), 0x05, 'frozen while SET');
  setCmos(0x0b, saveB);
  setCmos(0x0a, saveA);
  clock.advance(1e9);
  assert.deepEqual(readTime(cmos, clock), [0x20, 0x30, 0x01, 0x02, 0x03, 0x04, 0x06, 0x04]);
  const expected = (Date.UTC(2030, 0, 2, 3, 4, 6) - Date.UTC(2026, 11, 6, 23, 59, 58)) / 1000 - 4;
  assert.ok(Math.abs(rtc.offsetSeconds - expected) <= 1, `offset ${rtc.offsetSeconds} ~ ${expected}`);
});

test('a stopped divider holds the time; writes without SET take effect at once', () => {
  const { cmos, setCmos, clock } = setup();
  setCmos(0x0a, 0x66);
  clock.advance(10e9);
  assert.equal(cmos(0x00), 0x58);
  setCmos(0x0a, 0x26);
  setCmos(0x02, 0x30);
  assert.equal(cmos(0x02), 0x30);
  assert.equal(cmos(0x04), 0x23);
  setCmos(0x06, 0x05);                   // the weekday is the guest's to set
  assert.equal(cmos(0x06), 0x05);
});

test('periodic interrupt at the rate select: IRQ8 rises, reading C clears IRQF and the line', () => {
  const { cmos, setCmos, clock, rtc, irq } = setup();
  cmos(0x0c);
  setCmos(0x0b, 0x02 | 0x40);            // PIE, 1024 Hz (RS=6)
  const due = rtc.poll(clock.now());
  assert.ok(due > clock.now() && due - clock.now() <= 976_563, `next periodic in ${due - clock.now()} ns`);
  clock.advance(due - clock.now());
  assert.equal(rtc.poll(clock.now()), Infinity, 'IRQF pending: nothing more until C is read');
  assert.equal(irq.level, true);
  assert.equal(cmos(0x0c), 0x80 | 0x40);
  assert.equal(irq.level, false);
  assert.equal(cmos(0x0c), 0);
  const next = rtc.poll(clock.now());
  // 1/1024 s = 976562.5 ns: whole-ns deadlines alternate between the two roundings.
  assert.ok(next - due === 976_562 || next - due === 976_563, `every 1/1024 s, got ${next - due}`);
});

test('update-ended and alarm interrupts; flags without enables set C but not IRQF', () => {
  const { cmos, setCmos, clock, rtc, irq } = setup();
  cmos(0x0c);
  clock.advance(1e9);
  rtc.poll(clock.now());
  assert.equal(irq.level, false);
  assert.equal(cmos(0x0c) & 0xf0, 0x50, 'PF and UF set, IRQF clear');
  setCmos(0x0b, 0x02 | 0x10);            // UIE
  const due = rtc.poll(clock.now());
  clock.advance(due - clock.now());
  rtc.poll(clock.now());
  assert.equal(irq.level, true);
  assert.equal(cmos(0x0c) & 0x90, 0x90);
  // Alarm at 00:00:05 (hour and minute given, second given).
  setCmos(0x0b, 0x02 | 0x20);
  setCmos(0x01, 0x05); setCmos(0x03, 0x00); setCmos(0x05, 0x00);
  clock.advance(2e9);                   // to 00:00:02
  rtc.poll(clock.now()); cmos(0x0c);
  assert.equal(irq.level, false);
  clock.advance(3e9);                   // 00:00:05
  rtc.poll(clock.now());
  assert.equal(irq.level, true);
  assert.equal(cmos(0x0c) & 0xa0, 0xa0);
  setCmos(0x01, 0xc0); setCmos(0x03, 0xff); setCmos(0x05, 0xc0);   // every second
  clock.advance(1e9);
  rtc.poll(clock.now());
  assert.equal(cmos(0x0c) & 0xa0, 0xa0);
});

test('CMOS memory: sizes from the RAM option, checksum, shutdown status, RAM bytes writable', () => {
  const { cmos, setCmos } = setup({ belowFourGiB: 512 * 1024 * 1024, aboveFourGiB: 2 * 1024 ** 3 });
  const w = (lo: number): number => cmos(lo) | cmos(lo + 1) << 8;
  assert.equal(w(0x15), 640);
  assert.equal(w(0x17), 0xffff, 'extended memory above 1 MiB caps at 65535 KiB');
  assert.equal(w(0x30), 0xffff);
  assert.equal(w(0x34), (512 - 16) * 16, '64 KiB units above 16 MiB');
  assert.equal(cmos(0x5b) | cmos(0x5c) << 8 | cmos(0x5d) << 16, 2 * 16384);
  let sum = 0;
  for (let i = 0x10; i <= 0x2d; i++) sum += cmos(i);
  assert.equal(cmos(0x2e) << 8 | cmos(0x2f), sum);
  assert.equal(cmos(0x0f), 0);
  setCmos(0x40, 0xab);
  assert.equal(cmos(0x40), 0xab);
  assert.equal(cmos(0x80 | 0x40), 0xab, 'bit 7 of the index is the NMI mask, not address');
  const small = setup({ belowFourGiB: 8 * 1024 * 1024 });
  assert.equal(small.cmos(0x17) | small.cmos(0x18) << 8, 7 * 1024);
  assert.equal(small.cmos(0x34), 0);
  assert.throws(() => setup({ belowFourGiB: -1 }), VmmError);
  assert.throws(() => setup({ belowFourGiB: 5 * 1024 ** 3 }), VmmError);
});

test('port 0x70 bit 7 masks NMI; the index port reads as open bus; C and D ignore writes', () => {
  const { io, rtc, cmos, setCmos } = setup();
  io.outb(0x70, 0x8f);
  assert.equal(rtc.nmiMasked, true);
  io.outb(0x70, 0x0f);
  assert.equal(rtc.nmiMasked, false);
  assert.equal(io.inb(0x70), 0xff);
  setCmos(0x0d, 0); setCmos(0x0c, 0xff);
  assert.equal(cmos(0x0d), 0x80);
  assert.equal(cmos(0x0c) & 0x80, 0);
});
