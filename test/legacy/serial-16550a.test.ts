import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { Serial16550a } from '../../src/vmm/devices/legacy/serial-16550a.js';
import { PortIo } from './port-io.js';

const COM1 = 0x3f8;
const THR = COM1, IER = COM1 + 1, IIR = COM1 + 2, FCR = COM1 + 2, LCR = COM1 + 3, MCR = COM1 + 4, LSR = COM1 + 5, MSR = COM1 + 6, SCR = COM1 + 7;

function setup(hostQueueLimit?: number) {
  const out: number[] = [];
  const irq = new RecordingLine();
  const clock = new ManualClock(1_000_000);
  let roomCalls = 0;
  const uart = new Serial16550a({ output: (b) => out.push(b), irq, clock, hostQueueLimit, onInputRoom: () => roomCalls++ });
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: COM1, size: 8 }, uart);
  return { uart, out, irq, clock, io: new PortIo(bus), rooms: () => roomCalls };
}

/** drivers/tty/serial/8250/8250_port.c autoconfig(), the register traffic that decides the port type. */
function linuxAutoconfig(io: PortIo): string {
  const scratch = io.inb(IER);
  io.outb(IER, 0);
  const scratch2 = io.inb(IER) & 0x0f;
  io.outb(IER, 0x0f);
  const scratch3 = io.inb(IER) & 0x0f;
  io.outb(IER, scratch);
  if (scratch2 !== 0 || scratch3 !== 0x0f) return 'none';
  const saveMcr = io.inb(MCR), saveLcr = io.inb(LCR);
  io.outb(MCR, 0x10 | 0x0a);           // loopback test
  const status1 = io.inb(MSR) & 0xf0;
  io.outb(MCR, saveMcr);
  if (status1 !== 0x90) return 'no loopback';
  io.outb(LCR, 0xbf); io.outb(0x3fa, 0); io.outb(LCR, 0);   // EFR probe: on a 16550A this is FCR
  io.outb(FCR, 0x01);
  const fifo = io.inb(IIR) >> 6;
  io.outb(LCR, saveLcr);
  if (fifo !== 3) return ['8250', 'unknown', '16550'][fifo]!;
  // autoconfig_16550a: no EFR with DLAB (IIR reads non-zero), no 16750 64-byte bit, no XScale UUE bit.
  io.outb(LCR, 0x80);
  if (io.inb(IIR) === 0) return 'ST16C650V1';
  io.outb(LCR, 0xbf);
  if (io.inb(IIR) === 0) return '16650';
  io.outb(LCR, 0);
  io.outb(FCR, 0x01 | 0x20);
  const s1 = io.inb(IIR) >> 5;
  io.outb(FCR, 0x01);
  io.outb(LCR, 0x80); io.outb(FCR, 0x21);
  const s2 = io.inb(IIR) >> 5;
  io.outb(FCR, 0x01); io.outb(LCR, 0);
  if (s1 === 6 && s2 === 7) return '16750';
  const iersave = io.inb(IER);
  io.outb(IER, iersave & ~0x40);
  if (!(io.inb(IER) & 0x40)) { io.outb(IER, iersave | 0x40); if (io.inb(IER) & 0x40) return 'xscale'; }
  io.outb(IER, iersave);
  io.outb(FCR, 0x07); io.outb(FCR, 0);   // serial8250_clear_fifos
  io.inb(THR);
  io.outb(IER, 0);
  return '16550A';
}

test('Linux 8250 autoconfig finds a 16550A', () => {
  const { io } = setup();
  assert.equal(linuxAutoconfig(io), '16550A');
  assert.equal(io.inb(IIR), 0x01, 'FIFOs off after clear_fifos, no interrupt');
  assert.notEqual(io.inb(LSR), 0xff);
});

test('startup THRE test: enabling ETBEI with THR empty interrupts; reading IIR clears it; re-enabling re-raises', () => {
  const { io } = setup();
  io.outb(IER, 0x02);
  const lsr = io.inb(LSR), iir = io.inb(IIR);
  io.outb(IER, 0); io.outb(IER, 0x02);
  const iir1 = io.inb(IIR);
  io.outb(IER, 0);
  assert.equal(lsr & 0x60, 0x60, 'THRE and TEMT');
  assert.equal(iir & 0x0f, 0x02, 'THRE interrupt reported');
  assert.equal(iir1 & 0x0f, 0x02, 'reasserted (no UART_BUG_THRE)');
  io.outb(IER, 0x02);
  assert.equal(io.inb(IIR) & 0x0f, 0x02);
  assert.equal(io.inb(IIR) & 0x0f, 0x01, 'the IIR read cleared it');
});

test('the IRQ line follows pending interrupts only while MCR OUT2 is set', () => {
  const { io, irq } = setup();
  io.outb(IER, 0x02);
  assert.equal(irq.level, false, 'OUT2 clear: the PC gates the IRQ off');
  io.outb(MCR, 0x0b);                  // DTR RTS OUT2, as serial8250_set_mctrl does
  assert.equal(irq.level, true);
  io.inb(IIR);
  assert.equal(irq.level, false);
  io.outb(THR, 0x41);
  assert.equal(irq.level, true, 'THR empty again at once');
  io.outb(MCR, 0x1b);
  assert.equal(irq.level, false, 'loopback forces OUT2 off');
});

test('transmitted bytes reach the sink in order; the divisor latch is behind DLAB', () => {
  const { io, out } = setup();
  io.outb(LCR, 0x83); io.outb(THR, 0x01); io.outb(IER, 0x00); io.outb(LCR, 0x03);   // 115200 8N1
  for (const ch of 'Linux version') io.outb(THR, ch.charCodeAt(0));
  assert.equal(String.fromCharCode(...out), 'Linux version');
  io.outb(LCR, 0x83);
  assert.equal(io.inb(THR), 0x01);
  assert.equal(io.inb(IER), 0x00);
  io.outb(LCR, 0x03);
  io.outb(SCR, 0x5a);
  assert.equal(io.inb(SCR), 0x5a);
});

test('receive: RX data interrupt at the FIFO trigger level, character timeout below it', () => {
  const { io, uart, clock } = setup();
  io.outb(LCR, 0x83); io.outb(THR, 0x01); io.outb(IER, 0); io.outb(LCR, 0x03);
  io.outb(FCR, 0x81);                  // FIFO on, trigger 8 (UART_FCR_R_TRIG_10)
  io.outb(IER, 0x05);
  io.outb(MCR, 0x0b);
  assert.equal(uart.receive(new TextEncoder().encode('abc')), 3);
  assert.equal(io.inb(IIR), 0xc1, 'below the trigger: no interrupt yet');
  assert.equal(io.inb(LSR) & 1, 1);
  const due = uart.poll(clock.now());
  // 4 characters of 10 bits at 115200 baud.
  assert.ok(Math.abs(due - clock.now() - 4 * 10 * 1e9 / 115200) < 1, `timeout in ${due - clock.now()} ns`);
  clock.advance(due - clock.now());
  assert.equal(uart.poll(clock.now()), Infinity);
  assert.equal(io.inb(IIR), 0xcc, 'character timeout');
  assert.equal(io.inb(THR), 0x61);
  assert.equal(io.inb(IIR), 0xc1, 'reading RBR cleared the timeout');
  uart.receive(new TextEncoder().encode('defghijk'));
  assert.equal(io.inb(IIR), 0xc4, '10 bytes >= trigger 8');
  const got: number[] = [];
  while (io.inb(LSR) & 1) got.push(io.inb(THR));
  assert.equal(String.fromCharCode(...got), 'bcdefghijk');
  assert.equal(io.inb(IIR), 0xc1);
});

test('host input beyond the FIFO waits in a bounded queue: nothing lost, the excess refused', () => {
  const { io, uart, rooms } = setup(32);
  io.outb(FCR, 0x01);
  const data = new Uint8Array(100).map((_, i) => i);
  assert.equal(uart.receive(data), 48, '16 in the FIFO, 32 queued');
  assert.equal(uart.inputRoom, 0);
  assert.equal(rooms(), 0);
  const got: number[] = [];
  for (let i = 0; i < 10; i++) got.push(io.inb(THR));
  assert.equal(rooms(), 1, 'room again after the guest read');
  assert.equal(uart.receive(data.subarray(48)), 10);
  while (io.inb(LSR) & 1) got.push(io.inb(THR));
  assert.deepEqual(got, [...data.subarray(0, 58)]);
  assert.equal(io.inb(LSR) & 0x02, 0, 'no overrun from host input');
});

test('non-FIFO mode holds one byte; the next waits for the read', () => {
  const { io, uart } = setup();
  uart.receive(new Uint8Array([1, 2, 3]));
  assert.equal(io.inb(THR), 1);
  assert.equal(io.inb(THR), 2);
  assert.equal(io.inb(THR), 3);
  assert.equal(io.inb(LSR) & 1, 0);
});

test('loopback: transmitted bytes come back; a full FIFO overruns (OE, line status interrupt, cleared by LSR read)', () => {
  const { io, out, uart } = setup();
  io.outb(FCR, 0x01);
  io.outb(IER, 0x05);
  io.outb(MCR, 0x10);
  uart.receive(new Uint8Array([0xee]));   // the line from the host is cut in loopback
  for (let i = 0; i < 17; i++) io.outb(THR, i);
  assert.deepEqual(out, []);
  assert.equal(io.inb(IIR) & 0x0f, 0x06);
  const lsr = io.inb(LSR);
  assert.equal(lsr & 0x03, 0x03, 'DR and OE');
  assert.equal(io.inb(LSR) & 0x02, 0, 'OE cleared by the read');
  const got: number[] = [];
  while (io.inb(LSR) & 1) got.push(io.inb(THR));
  assert.deepEqual(got, [...Array(16).keys()]);
  io.outb(MCR, 0x00);
  assert.equal(io.inb(THR), 0xee, 'host input resumes after loopback');
});

test('modem status: loopback maps MCR to MSR with delta bits and a modem status interrupt', () => {
  const { io } = setup();
  io.outb(IER, 0x08);
  io.outb(MCR, 0x10);
  io.inb(MSR);
  io.outb(MCR, 0x10 | 0x01 | 0x04);     // DTR -> DSR, OUT1 -> RI
  assert.equal(io.inb(IIR) & 0x0f, 0x00, 'modem status interrupt');
  assert.equal(io.inb(MSR), 0x20 | 0x40 | 0x02);
  io.outb(MCR, 0x10);                   // RI falls: TERI
  assert.equal(io.inb(MSR), 0x02 | 0x04);
  assert.equal(io.inb(IIR) & 0x0f, 0x01);
  io.outb(MCR, 0);
  assert.equal(io.inb(MSR) & 0xf0, 0xb0, 'host side: CTS DSR DCD');
});

test('interrupt priority: line status over data over THRE', () => {
  const { io, uart } = setup();
  io.outb(IER, 0x07);
  assert.equal(io.inb(IIR) & 0x0f, 0x02);
  io.outb(IER, 0x05); io.outb(IER, 0x07);
  uart.receive(new Uint8Array([1]));
  assert.equal(io.inb(IIR) & 0x0f, 0x04);
  io.outb(MCR, 0x10);
  io.outb(THR, 2);                      // loopback into the full 1-byte holding register: overrun
  assert.equal(io.inb(IIR) & 0x0f, 0x06);
  io.inb(LSR);
  assert.equal(io.inb(IIR) & 0x0f, 0x04);
  io.inb(THR);
  assert.equal(io.inb(IIR) & 0x0f, 0x02);
});
