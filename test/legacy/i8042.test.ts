import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceBus } from '../../src/vmm/bus.js';
import { RecordingLine } from '../../src/vmm/bus/interrupt-line.js';
import { I8042 } from '../../src/vmm/devices/legacy/i8042.js';
import { PostCodePort } from '../../src/vmm/devices/legacy/post-code.js';
import { SystemControlPortA } from '../../src/vmm/devices/legacy/system-control-port-a.js';
import { PortIo } from './port-io.js';

function setup() {
  const kbdIrq = new RecordingLine(), auxIrq = new RecordingLine();
  let resets = 0;
  const kbc = new I8042({ kbdIrq, auxIrq, onReset: () => resets++ });
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x60, size: 1 }, kbc.dataPort);
  bus.add({ space: 'io', base: 0x64, size: 1 }, kbc.commandPort);
  const io = new PortIo(bus);
  return { kbc, kbdIrq, auxIrq, io, resets: () => resets };
}

/** Linux's __i8042_command: command, parameters, then responses (AUX_LOOP responses must be AUX data). */
function i8042Command(io: PortIo, command: number, params: number[] = []): number[] {
  const nParams = (command >> 12) & 0xf, nReplies = (command >> 8) & 0xf;
  assert.equal(params.length, nParams);
  assert.equal(io.inb(0x64) & 0x02, 0, 'input buffer empty');
  io.outb(0x64, command & 0xff);
  for (const p of params) io.outb(0x60, p);
  const replies: number[] = [];
  for (let i = 0; i < nReplies; i++) {
    const str = io.inb(0x64);
    assert.equal(str & 0x01, 1, `reply ${i} of command ${command.toString(16)} is there`);
    if ((command & 0xff) === 0xd3) assert.equal(str & 0x20, 0x20, 'loopback reply comes from AUX');
    replies.push(io.inb(0x60));
  }
  return replies;
}

function flush(io: PortIo): number {
  let n = 0;
  while (io.inb(0x64) & 0x01 && n < 16) { io.inb(0x60); n++; }
  return n;
}

test("Linux's i8042 probe: flush, self-test, CTR, AUX loopback with IRQ12, no MUX, keyboard enabled", () => {
  const { io, auxIrq, kbc } = setup();
  assert.ok(flush(io) < 16, 'a controller is present');
  assert.deepEqual(i8042Command(io, 0x01aa), [0x55]);
  let [ctr] = i8042Command(io, 0x0120);
  assert.equal(ctr, 0x65, 'firmware CTR: KBDINT SYS AUXDIS XLATE');
  ctr = (ctr! | 0x10) & ~0x01;
  i8042Command(io, 0x1060, [ctr]);
  assert.deepEqual(i8042Command(io, 0x0120), [ctr]);
  assert.equal(io.inb(0x64) & 0x10, 0x10, 'no keylock');
  // i8042_check_aux
  flush(io);
  assert.deepEqual(i8042Command(io, 0x11d3, [0x5a]), [0x5a]);
  i8042Command(io, 0x00a7);
  assert.equal(i8042Command(io, 0x0120)[0]! & 0x20, 0x20);
  i8042Command(io, 0x00a8);
  assert.equal(i8042Command(io, 0x0120)[0]! & 0x20, 0);
  ctr = (ctr & ~0x20) | 0x02;
  i8042Command(io, 0x1060, [ctr]);
  const edges = auxIrq.edges;
  io.outb(0x64, 0xd3); io.outb(0x60, 0xa5);
  assert.equal(auxIrq.edges, edges + 1, 'the AUX IRQ is delivered');
  assert.equal(io.inb(0x64) & 0x21, 0x21);
  assert.equal(io.inb(0x60), 0xa5);
  assert.equal(auxIrq.level, false);
  ctr = (ctr | 0x20) & ~0x02;
  i8042Command(io, 0x1060, [ctr]);
  // i8042_set_mux_mode(1): the third loopback byte comes back unchanged, so there is no multiplexer.
  assert.deepEqual(i8042Command(io, 0x11d3, [0xf0]), [0xf0]);
  assert.deepEqual(i8042Command(io, 0x11d3, [0x56]), [0x56]);
  assert.deepEqual(i8042Command(io, 0x11d3, [0xa4]), [0xa4]);
  // i8042_enable_kbd_port
  ctr = (ctr & ~0x10) | 0x01;
  i8042Command(io, 0x1060, [ctr]);
  assert.equal(kbc.commandByte, ctr);
  assert.equal(io.inb(0x64) & 0x01, 0, 'nothing left over');
});

test('atkbd: reset, get ID (translated), set LEDs, scan set read, enable; each byte raises IRQ1', () => {
  const { io, kbdIrq } = setup();
  const send = (b: number): number[] => {
    io.outb(0x60, b);
    const got: number[] = [];
    while (io.inb(0x64) & 0x01) {
      const edges = kbdIrq.edges;
      assert.equal(kbdIrq.level, true, 'IRQ1 while a keyboard byte waits');
      got.push(io.inb(0x60));
      if (io.inb(0x64) & 0x01) assert.equal(kbdIrq.edges, edges + 1, 'the next byte is a new edge');
    }
    return got;
  };
  assert.deepEqual(send(0xff), [0xfa, 0xaa]);
  assert.deepEqual(send(0xf2), [0xfa, 0xab, 0x41]);
  assert.deepEqual(send(0xed), [0xfa]);
  assert.deepEqual(send(0x00), [0xfa]);
  assert.deepEqual(send(0xf0), [0xfa]);
  assert.deepEqual(send(0x00), [0xfa, 0x41]);
  assert.deepEqual(send(0xf4), [0xfa]);
  assert.deepEqual(send(0xee), [0xee]);
  assert.deepEqual(send(0x12), [0xfe], 'unknown keyboard command: resend');
  io.outb(0x64, 0x60); io.outb(0x60, 0x21);   // translation off, AUX off
  assert.deepEqual(send(0xf2), [0xfa, 0xab, 0x83]);
});

test('keyboard bytes wait while the keyboard interface is disabled; controller replies do not', () => {
  const { io } = setup();
  io.outb(0x60, 0xff);
  io.outb(0x64, 0xad);
  assert.equal(io.inb(0x64) & 0x01, 0);
  io.outb(0x64, 0xaa);
  assert.equal(io.inb(0x60), 0x55);
  io.outb(0x64, 0xae);
  assert.equal(io.inb(0x60), 0xfa);
  assert.equal(io.inb(0x60), 0xaa);
});

test('a byte for the absent mouse times out: 0xfe with AUX data and timeout bits', () => {
  const { io } = setup();
  io.outb(0x64, 0xd4); io.outb(0x60, 0xff);
  assert.equal(io.inb(0x64) & 0x61, 0x61);
  assert.equal(io.inb(0x60), 0xfe);
});

test('reset: command 0xfe, output port bit 0 clear, port 0x92 bit 0; A20 through the output port', () => {
  const { io, resets, kbc } = setup();
  io.outb(0x64, 0xff);
  assert.equal(resets(), 0, '0xff pulses nothing');
  io.outb(0x64, 0xfe);
  assert.equal(resets(), 1);
  io.outb(0x64, 0xd0);
  assert.equal(io.inb(0x60) & 0x03, 0x03);
  io.outb(0x64, 0xd1); io.outb(0x60, 0x01);
  assert.equal(kbc.a20, false);
  assert.equal(resets(), 1);
  io.outb(0x64, 0xd1); io.outb(0x60, 0x02);
  assert.equal(resets(), 2);
  let fast = 0;
  const portA = new SystemControlPortA(() => fast++);
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x92, size: 1 }, portA);
  const io2 = new PortIo(bus);
  assert.equal(io2.inb(0x92), 0x02);
  io2.outb(0x92, 0x00);
  assert.equal(portA.a20, false);
  io2.outb(0x92, 0x03);
  assert.equal(fast, 1);
  assert.equal(io2.inb(0x92), 0x02, 'the reset bit reads back 0');
});

test('unknown controller commands are dropped and counted; port 0x80 keeps the last POST code', () => {
  const { io, kbc } = setup();
  io.outb(0x64, 0xa1);
  assert.equal(kbc.ignoredCommands, 1);
  assert.equal(io.inb(0x64) & 0x01, 0);
  const post = new PostCodePort();
  const bus = new DeviceBus();
  bus.add({ space: 'io', base: 0x80, size: 1 }, post);
  const io2 = new PortIo(bus);
  io2.outb(0x80, 0x12); io2.outb(0x80, 0x34);
  assert.equal(post.lastCode, 0x34);
  assert.equal(post.writes, 2);
  assert.equal(io2.inb(0x80), 0xff);
});
