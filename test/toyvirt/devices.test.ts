import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { DeviceBus } from '../../src/vmm/bus.js';
import { ConsoleDevice } from '../../src/vmm/devices/console.js';
import { ManualClock } from '../../src/vmm/bus/clock.js';
import { LAPIC_DEFAULT_BASE as LAPIC_BASE } from '../../src/vmm/irq/lapic.js';
import { TOYVIRT_VCPU_ID, toyvirtLapic, toyvirtMsrs, toyvirtPlatform } from '../../src/vmm/toyvirt-platform.js';

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

/** toyvirt's LAPIC (irq/'s model) on a clock that stands still. */
const lapicAt = () => toyvirtLapic(new ManualClock(0), 0n);

test('toyvirt LAPIC: ID register holds the APIC id in bits 31:24; IA32_APIC_BASE has BSP and enable; other MSRs are refused and said', () => {
  const lapic = lapicAt();
  const d = new Uint8Array(4);
  lapic.read(0x20, d);
  assert.equal(readU32(d), TOYVIRT_VCPU_ID << 24);
  assert.equal(TOYVIRT_VCPU_ID, 120);
  lapic.read(0x30, d);
  assert.equal(readU32(d) & 0xff, 0x14);
  lapic.write(0x80, u32(0x30));
  lapic.read(0x80, d);
  assert.equal(readU32(d), 0x30, 'TPR keeps what was written');
  const said: string[] = [];
  const msrs = toyvirtMsrs(lapic, (line) => said.push(line));
  assert.equal(msrs.read(0x1b), 0xfee00900n);
  assert.deepEqual(said, []);
  assert.equal(msrs.read(0xc0011234), undefined);
  assert.equal(msrs.write(0x1b, 0xfee00400n), false, 'x2APIC enable is not offered');
  assert.deepEqual(said, ['RDMSR of MSR 0xc0011234 refused: injecting #GP', 'WRMSR of MSR 0x1b refused: injecting #GP']);
});

test('bus dispatches to the device owning the range, refuses overlaps and unknown addresses', () => {
  let out = '';
  const bus = new DeviceBus();
  bus.addPortDevice(new ConsoleDevice((t) => { out += t; }));
  bus.addMmioDevice(lapicAt());
  bus.dispatchIo({ port: 123, in: false, size: 1, data: bytes('A') });
  assert.equal(out, 'mach>\tA');
  const d = new Uint8Array(4);
  bus.dispatchMem({ gpa: LAPIC_BASE + 0x20, write: false, size: 4, data: d });
  assert.equal(readU32(d), TOYVIRT_VCPU_ID << 24);
  assert.throws(() => bus.dispatchIo({ port: 0x3f8, in: true, size: 1, data: d.subarray(0, 1) }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /I\/O port 0x3f8/.test(e.message));
  assert.throws(() => bus.dispatchMem({ gpa: 0xfee01000, write: true, size: 4, data: d }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /guest-physical 0xfee01000/.test(e.message));
  assert.throws(() => bus.dispatchMem({ gpa: LAPIC_BASE + 0xffe, write: false, size: 4, data: d }),
    (e: unknown) => e instanceof VmmError && e.code === 'ENODEV' && /no device at guest-physical 0xfee00ffe/.test(e.message), 'access straddling the end');
  assert.throws(() => bus.addPortDevice(new ConsoleDevice(() => {})), (e: unknown) => e instanceof VmmError && e.code === 'EEXIST');
  assert.throws(() => bus.addMmioDevice(lapicAt()), (e: unknown) => e instanceof VmmError && e.code === 'EEXIST' && /overlaps lapic/.test(e.message));
});

test('toyvirt has no open bus: an access no device answers ends the run instead of reading all ones', () => {
  const bus = new DeviceBus();
  const platform = toyvirtPlatform(bus, lapicAt());
  const enodev = (e: unknown): boolean => e instanceof VmmError && e.code === 'ENODEV';
  assert.throws(() => platform.bus.routeIo({ port: 0x80, in: false, size: 1, data: new Uint8Array(1) }), enodev);
  assert.throws(() => platform.bus.routeMem({ gpa: 0xfed00000, write: false, size: 4, data: new Uint8Array(4) }), enodev);
  assert.equal(platform.poll(0), Infinity, 'no LAPIC timer armed');
});
