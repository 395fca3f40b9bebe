/** MSI-X as Linux programs it: table entries through the BAR, enable with function mask, unmask, deliver. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigIo, bytes, le } from './config-io.js';
import { testBus, type TestBus } from './fixtures.js';

const TABLE = 0xc0010000;

function setup(): { t: TestBus; io: ConfigIo; win: ReturnType<TestBus['bus']['mmioWindow']>; ctl: number } {
  const t = testBus();
  const io = new ConfigIo(t.bus.configPorts());
  const win = t.bus.mmioWindow('pci-mem', 0xc0000000, 0x100000);
  io.write(t.slot, 0, 0x14, 4, TABLE);
  io.write(t.slot, 0, 4, 2, 0x0006);
  return { t, io, win, ctl: t.msix.capOffset + 2 };
}

function w32(win: { write(o: number, d: Uint8Array): void }, gpa: number, v: number): void {
  win.write(gpa - 0xc0000000, bytes(4, v));
}
function r32(win: { read(o: number, d: Uint8Array): void }, gpa: number): number {
  const d = new Uint8Array(4);
  win.read(gpa - 0xc0000000, d);
  return le(d);
}

test('entries start masked; a programmed, unmasked vector delivers its address/data pair', () => {
  const { t, io, win, ctl } = setup();
  for (let v = 0; v < 3; v++) assert.equal(r32(win, TABLE + 16 * v + 12), 1, `vector ${v} masked at reset`);
  assert.equal(t.msix.notify(0), false, 'MSI-X disabled: the caller must use INTx');
  // Linux: enable with the function masked, program entries, then clear the function mask.
  io.write(t.slot, 0, ctl, 2, 0xc000);
  w32(win, TABLE + 16, 0xfee01000);
  w32(win, TABLE + 16 + 4, 0);
  w32(win, TABLE + 16 + 8, 0x4041);
  w32(win, TABLE + 16 + 12, 0);
  assert.equal(r32(win, TABLE + 16), 0xfee01000);
  assert.equal(t.msix.notify(1), true);
  assert.equal(t.sink.messages.length, 0, 'function mask holds it');
  assert.equal(r32(win, TABLE + 0x800) & 2, 2, 'pending bit 1 set in the PBA');
  io.write(t.slot, 0, ctl, 2, 0x8000);
  assert.deepEqual(t.sink.messages, [{ address: 0xfee01000, data: 0x4041 }], 'released by clearing the function mask');
  assert.equal(r32(win, TABLE + 0x800), 0);
  t.msix.notify(1);
  assert.equal(t.sink.messages.length, 2);
});

test('the per-vector mask keeps the message pending until it is cleared; the PBA ignores writes', () => {
  const { t, io, win, ctl } = setup();
  io.write(t.slot, 0, ctl, 2, 0x8000);
  w32(win, TABLE + 32, 0xfee00000);
  w32(win, TABLE + 40, 0x31);
  t.msix.notify(2);
  assert.equal(t.sink.messages.length, 0);
  assert.equal(r32(win, TABLE + 0x800), 4);
  w32(win, TABLE + 0x800, 0);
  assert.equal(r32(win, TABLE + 0x800), 4, 'PBA is read-only');
  w32(win, TABLE + 44, 0xfffffffe);
  assert.equal(r32(win, TABLE + 44), 0, 'reserved vector-control bits read 0; mask cleared');
  assert.deepEqual(t.sink.messages, [{ address: 0xfee00000, data: 0x31 }]);
  // A 64-bit address splits into the high dword.
  w32(win, TABLE + 36, 0x1);
  t.msix.notify(2);
  assert.equal(t.sink.messages[1]!.address, 0x1fee00000);
  // Disabling MSI-X with a vector pending delivers nothing; INTx takes over.
  w32(win, TABLE + 44, 1);
  t.msix.notify(2);
  io.write(t.slot, 0, ctl, 2, 0);
  assert.equal(t.sink.messages.length, 2);
  assert.equal(t.msix.notify(2), false);
  assert.equal(t.msix.notify(99), false);
  io.write(t.slot, 0, ctl, 2, 0x8000);
  assert.equal(t.msix.notify(99), true, 'a vector beyond the table is dropped, like hardware');
  assert.equal(t.sink.messages.length, 2);
});
