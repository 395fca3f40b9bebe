import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ConsoleDevice } from '../../src/vmm/devices/console.js';
import { LAPIC_BASE, LapicDevice } from '../../src/vmm/devices/lapic.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
const readU32 = (d: Uint8Array): number => new DataView(d.buffer).getUint32(0, true);

test('console prints each byte, with "mach>" and a tab at the start of each line', () => {
  let out = '';
  const con = new ConsoleDevice((t) => { out += t; });
  for (const ch of 'hi\nthere\n\nx') con.write(0, bytes(ch));
  assert.equal(out, 'mach>\thi\nmach>\tthere\nmach>\t\nmach>\tx');
  const data = new Uint8Array([7]);
  con.read(0, data);
  assert.equal(data[0], 0);
});

test('LAPIC: ID register holds the APIC id in bits 31:24, IA32_APIC_BASE has BSP and enable', () => {
  const lapic = new LapicDevice(120);
  const d = new Uint8Array(4);
  lapic.read(0x20, d);
  assert.equal(readU32(d), 120 << 24);
  lapic.read(0x30, d);
  assert.equal(readU32(d) & 0xff, 0x14);
  assert.equal(lapic.apicBaseMsr, 0xfee00900n);
  lapic.write(0x80, u32(0x30));
  lapic.read(0x80, d);
  assert.equal(readU32(d), 0x30, 'TPR keeps what was written');
  lapic.write(0x20, u32(0));
  lapic.read(0x20, d);
  assert.equal(readU32(d), 120 << 24, 'ID is read-only');
  const einval = (re: RegExp) => (e: unknown): boolean => e instanceof VmmError && e.code === 'EINVAL' && re.test(e.message);
  assert.throws(() => lapic.read(0x21, d), einval(/LAPIC read of 4 bytes at 0xfee00021: only aligned 32-bit/));
  assert.throws(() => lapic.read(0x20, new Uint8Array(8)), einval(/LAPIC read of 8 bytes at 0xfee00020/));
  assert.throws(() => new LapicDevice(256), einval(/got 256/));
});

test('bus dispatches to the device owning the range, refuses overlaps and unknown addresses', () => {
  let out = '';
  const bus = new DeviceBus();
  bus.addPortDevice(new ConsoleDevice((t) => { out += t; }));
  bus.addMmioDevice(new LapicDevice(3));
  bus.dispatchIo({ port: 123, in: false, size: 1, data: bytes('A') });
  assert.equal(out, 'mach>\tA');
  const d = new Uint8Array(4);
  bus.dispatchMem({ gpa: LAPIC_BASE + 0x20, write: false, size: 4, data: d });
  assert.equal(readU32(d), 3 << 24);
  assert.throws(() => bus.dispatchIo({ port: 0x3f8, in: true, size: 1, data: d.subarray(0, 1) }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /I\/O port 0x3f8/.test(e.message));
  assert.throws(() => bus.dispatchMem({ gpa: 0xfee01000, write: true, size: 4, data: d }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /guest-physical 0xfee01000/.test(e.message));
  assert.throws(() => bus.dispatchMem({ gpa: LAPIC_BASE + 0xffe, write: false, size: 4, data: d }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /no device at guest-physical 0xfee00ffe/.test(e.message), 'access straddling the end');
  assert.throws(() => bus.addPortDevice(new ConsoleDevice(() => {})), (e: unknown) => e instanceof VmmError && e.code === 'EEXIST');
  assert.throws(() => bus.addMmioDevice(new LapicDevice(1)), (e: unknown) => e instanceof VmmError && e.code === 'EEXIST' && /overlaps lapic/.test(e.message));
});
