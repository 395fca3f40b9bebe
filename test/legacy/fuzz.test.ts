/**
 * Seeded random register traffic for each legacy device: whatever a guest writes or reads, in any
 * order and width, and however time moves, a device throws nothing but the VmmErrors it documents,
 * returns, and keeps its invariants. The seed is printed with any failure (TSVISOR_SEED repeats it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus, type BusDevice } from '../../src/vmm/bus.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { CmosRtc } from '../../src/vmm/devices/legacy/cmos-rtc.js';
import { I8042 } from '../../src/vmm/devices/legacy/i8042.js';
import { Serial16550a } from '../../src/vmm/devices/legacy/serial-16550a.js';
import { SystemControlPortB } from '../../src/vmm/devices/legacy/system-control-port-b.js';
import { PIT_TIMEBASE } from '../../src/vmm/devices/legacy/timebase.js';
import { IoApic, type IoApicMessage } from '../../src/vmm/irq/ioapic.js';
import { Pic8259Pair } from '../../src/vmm/irq/pic-8259.js';
import { Pit8254 } from '../../src/vmm/irq/pit-8254.js';
import { Rng, testSeed } from '../exec/rng.js';
import { PortIo } from './port-io.js';

const ROUNDS = Number(process.env.TSVISOR_LEGACY_FUZZ ?? 20000);

/** Runs op; a VmmError whose code is in allowed is fine, anything else fails with the seed. */
function guarded(seed: number, round: number, allowed: readonly string[], op: () => void): void {
  try {
    op();
  } catch (e) {
    if (e instanceof VmmError && allowed.includes(e.code)) return;
    const what = e instanceof assert.AssertionError ? e.message : String(e);
    assert.fail(`seed ${seed}, round ${round}: ${what}`);
  }
}

function randomAccess(rng: Rng, dev: BusDevice, size: number): void {
  const width = rng.pick([1, 1, 1, 2, 4]);
  const offset = rng.int(size - width + 1);
  const data = new Uint8Array(width);
  if (rng.int(2)) {
    dev.read(offset, data);
  } else {
    for (let i = 0; i < width; i++) data[i] = rng.int(256);
    dev.write(offset, data);
  }
}

test('fuzz: 16550A UART', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const clock = new ManualClock(0), irq = new RecordingLine();
  let written = 0;
  const uart = new Serial16550a({ output: () => written++, irq, clock, hostQueueLimit: 64 });
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x3f8, size: 8 }, uart);
  const io = new PortIo(bus);
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, [], () => {
      switch (rng.int(6)) {
        case 0: {
          const lcr = io.inb(0x3fb), mcr = io.inb(0x3fc), before = written;
          io.outb(0x3f8, rng.int(256));
          assert.equal(written - before, !(lcr & 0x80) && !(mcr & 0x10) ? 1 : 0, 'a byte written to THR reaches the sink');
          break;
        }
        case 1: {
          const room = uart.inputRoom;
          const taken = uart.receive(new Uint8Array(rng.int(40)));
          assert.ok(taken <= room + 16 && uart.inputRoom >= 0 && uart.inputRoom <= 64);
          break;
        }
        case 2: clock.advance(rng.int(2_000_000)); break;
        case 3: {
          const due = uart.poll(clock.now());
          assert.ok(due === Infinity || due > clock.now());
          break;
        }
        default: randomAccess(rng, uart, 8);
      }
      const lcr = io.inb(0x3fb);
      assert.equal(io.inb(0x3fd) & 0x60, 0x60, 'THRE and TEMT: transmission is immediate');
      if (!(lcr & 0x80)) assert.equal(io.inb(0x3f9) & 0xf0, 0, 'IER has four bits');
    });
  }
});

test('fuzz: 8259A PIC pair', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const intr = new RecordingLine();
  const pic = new Pic8259Pair(intr);
  const devices = [pic.masterPorts, pic.slavePorts, pic.elcrPorts];
  const init = (): void => {
    for (const [dev, base, cascade] of [[pic.masterPorts, 0x30, 0x04], [pic.slavePorts, 0x38, 0x02]] as const) {
      dev.write(0, new Uint8Array([0x11])); dev.write(1, new Uint8Array([base]));
      dev.write(1, new Uint8Array([cascade])); dev.write(1, new Uint8Array([rng.pick([0x01, 0x03, 0x11])]));
    }
  };
  init();
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, ['ENOTSUP'], () => {
      switch (rng.int(8)) {
        case 0: if (rng.int(20) === 0) init(); break;
        case 1: case 2: {
          const irq = rng.pick([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
          if (rng.int(2)) pic.input(irq).pulse(); else pic.input(irq).set(rng.int(2) === 1);
          break;
        }
        case 3: {
          const masterBase = pic.master.vectorBase, slaveBase = pic.slave.vectorBase;
          const v = pic.acknowledge();
          assert.ok((v >= masterBase && v < masterBase + 8) || (v >= slaveBase && v < slaveBase + 8), `vector ${v}`);
          break;
        }
        default: randomAccess(rng, rng.pick(devices), 2);
      }
      assert.equal(pic.hasInterrupt(), intr.level, 'INT output and hasInterrupt agree');
      for (const chip of [pic.master, pic.slave]) assert.ok(chip.irr <= 0xff && chip.isr <= 0xff && chip.imr <= 0xff);
    });
  }
});

test('fuzz: 8254 PIT and port 0x61', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const clock = new ManualClock(rng.int(1e12)), irq = new RecordingLine();
  const pit = new Pit8254(clock, irq);
  const portB = new SystemControlPortB(pit, clock);
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, [], () => {
      switch (rng.int(6)) {
        case 0: clock.advance(rng.pick([1, 838, rng.int(100_000), rng.int(1e9)])); break;
        case 1: {
          const due = pit.poll(clock.now());
          assert.ok(due === Infinity || due > clock.now(), `deadline ${due} not after ${clock.now()}`);
          assert.equal(irq.level, pit.channels[0]!.out(PIT_TIMEBASE.tickAt(clock.now())), 'IRQ0 follows OUT0 after a poll');
          break;
        }
        case 2: randomAccess(rng, portB, 1); break;
        case 3: pit.write(3, new Uint8Array([rng.pick([0x30, 0x34, 0x36, 0x38, 0xb0, 0xb6, 0x00, 0xc2, 0xe2, 0xd0]) ^ (rng.int(4) ? 0 : rng.int(256))])); break;
        default: randomAccess(rng, pit, 4);
      }
    });
  }
});

test('fuzz: CMOS RTC', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const clock = new ManualClock(rng.int(1e12)), irq = new RecordingLine();
  const rtc = new CmosRtc({ clock, irq, hostDateMs: () => rng.int(4e12) });
  const io = new PortIo((() => { const b = new DeviceBus(); b.add({ space: 'io', base: 0x70, size: 2 }, rtc); return b; })());
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, [], () => {
      switch (rng.int(7)) {
        case 0: clock.advance(rng.pick([rng.int(1e6), rng.int(2e9), rng.int(1e12)])); break;
        case 1: {
          const due = rtc.poll(clock.now());
          assert.ok(due === Infinity || due > clock.now(), `deadline ${due} not after ${clock.now()}`);
          break;
        }
        case 2: io.outb(0x70, rng.pick([0x0a, 0x0b, 0x0c, 0x01, 0x03, 0x05, rng.int(256)])); io.outb(0x71, rng.int(256)); break;
        case 3: {
          io.outb(0x70, 0x0c);
          const c = io.inb(0x71);
          assert.equal(irq.level, false, 'reading C drops IRQ8');
          assert.equal(c & 0x0f, 0, 'C has only four flags');
          break;
        }
        default: randomAccess(rng, rtc, 2);
      }
      io.outb(0x70, 0x0d);
      assert.equal(io.inb(0x71), 0x80);
      io.outb(0x70, 0x0b);
      const b = io.inb(0x71);
      io.outb(0x70, 0x0a);
      if (b & 0x80) assert.equal(io.inb(0x71) & 0x80, 0, 'no update in progress while SET');
    });
  }
});

test('fuzz: i8042', () => {
  const seed = testSeed(), rng = new Rng(seed);
  const kbdIrq = new RecordingLine(), auxIrq = new RecordingLine();
  let resets = 0;
  const kbc = new I8042({ kbdIrq, auxIrq, onReset: () => resets++ });
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, [], () => {
      const before = resets;
      const port = rng.int(2), value = rng.int(3) ? rng.int(256) : rng.pick([0xd3, 0xd4, 0xd1, 0x60, 0x20, 0xaa, 0xa8, 0xfe]);
      const data = new Uint8Array([value]);
      const dev = port ? kbc.commandPort : kbc.dataPort;
      if (rng.int(2)) dev.read(0, data); else dev.write(0, data);
      assert.ok(resets - before <= 1);
      const st = new Uint8Array(1);
      kbc.commandPort.read(0, st);
      assert.equal(st[0]! & 0x02, 0, 'the input buffer is never busy');
      if (kbdIrq.level) assert.equal(st[0]! & 0x21, 0x01, 'IRQ1 only with keyboard data waiting');
      if (auxIrq.level) assert.equal(st[0]! & 0x21, 0x21, 'IRQ12 only with AUX data waiting');
      if (!(st[0]! & 1)) {
        const a = new Uint8Array(1), b = new Uint8Array(1);
        kbc.dataPort.read(0, a); kbc.dataPort.read(0, b);
        assert.equal(a[0], b[0], 'an empty output buffer reads the last byte again');
      }
    });
  }
});

test('fuzz: I/O APIC', () => {
  const seed = testSeed(), rng = new Rng(seed);
  let ioapic: IoApic | undefined;
  const sent: IoApicMessage[] = [];
  ioapic = new IoApic((m) => {
    const rte = ioapic!.entry(m.pin);
    assert.equal(rte & 0x10000n, 0n, 'a masked pin delivers nothing');
    assert.equal(m.vector, Number(rte & 0xffn));
    assert.equal(m.trigger, rte & 0x8000n ? 'level' : 'edge');
    if (m.trigger === 'level') assert.equal(rte & 0x4000n, 0x4000n, 'level delivery sets remote IRR');
    sent.push(m);
  });
  for (let round = 0; round < ROUNDS; round++) {
    guarded(seed, round, ['EINVAL'], () => {
      switch (rng.int(6)) {
        case 0: {
          const pin = rng.int(24);
          if (rng.int(2)) ioapic!.input(pin).pulse(); else ioapic!.input(pin).set(rng.int(2) === 1);
          break;
        }
        case 1: ioapic!.endOfInterrupt(rng.int(256)); break;
        case 2: {
          const index = rng.pick([0, 1, 2, 0x10 + rng.int(48), rng.int(256)]);
          ioapic!.write(0, new Uint8Array([index, 0, 0, 0]));
          const v = new Uint8Array(4);
          if (rng.int(2)) ioapic!.read(0x10, v);
          else { new DataView(v.buffer).setUint32(0, rng.int(4) ? rng.int(256) | rng.pick([0, 0x8000, 0x10000, 0x800]) : Math.floor(rng.next() * 2 ** 32), true); ioapic!.write(0x10, v); }
          break;
        }
        default: {
          const width = rng.pick([1, 2, 4, 4, 8]);
          const data = new Uint8Array(width);
          const offset = rng.pick([0, 0x10, 0x40, rng.int(0x1000 - width)]);
          if (rng.int(2)) ioapic!.read(offset, data); else ioapic!.write(offset, data.map(() => rng.int(256)));
        }
      }
    });
  }
  assert.ok(sent.length > 0, 'the fuzz delivered something');
});
