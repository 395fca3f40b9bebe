/**
 * The xAPIC register page: power-up values (SDM "Local APIC State After Power-Up or Reset"),
 * writable bits, read-only and unimplemented registers, ESR write-then-read, and what happens to
 * accesses that are not aligned 32-bit ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { LapicReg, rig, SVR_ON } from './fixture.js';

const LVTS = [LapicReg.LVT_CMCI, LapicReg.LVT_TIMER, LapicReg.LVT_THERMAL, LapicReg.LVT_PERF,
  LapicReg.LVT_LINT0, LapicReg.LVT_LINT1, LapicReg.LVT_ERROR];

test('power-up values', () => {
  const { rd } = rig({ apicId: 3 });
  assert.equal(rd(LapicReg.ID), 3 << 24);
  assert.equal(rd(LapicReg.VERSION), 0x60014, 'version 0x14, max LVT entry 6 (seven LVTs with CMCI)');
  assert.equal(rd(LapicReg.TPR), 0);
  assert.equal(rd(LapicReg.PPR), 0);
  assert.equal(rd(LapicReg.LDR), 0);
  assert.equal(rd(LapicReg.DFR), 0xffffffff);
  assert.equal(rd(LapicReg.SVR), 0xff);
  for (const lvt of LVTS) assert.equal(rd(lvt), 0x10000, `LVT ${lvt.toString(16)} masked`);
  for (let i = 0; i < 8; i++) {
    assert.equal(rd(LapicReg.ISR0 + 16 * i), 0);
    assert.equal(rd(LapicReg.TMR0 + 16 * i), 0);
    assert.equal(rd(LapicReg.IRR0 + 16 * i), 0);
  }
  assert.equal(rd(LapicReg.ESR), 0);
  assert.equal(rd(LapicReg.TIMER_INITIAL), 0);
  assert.equal(rd(LapicReg.TIMER_CURRENT), 0);
  assert.equal(rd(LapicReg.TIMER_DIVIDE), 0);
});

test('writable bits: ID, LDR, DFR, SVR, TPR, ICR, divide, LVT fields', () => {
  const { rd, wr, lapic } = rig();
  wr(LapicReg.ID, 0xffffffff);
  assert.equal(rd(LapicReg.ID), 0xff000000);
  assert.equal(lapic.apicId, 0xff);
  wr(LapicReg.ID, 0x05000000);
  assert.equal(lapic.apicId, 5);
  wr(LapicReg.LDR, 0xffffffff);
  assert.equal(rd(LapicReg.LDR), 0xff000000);
  wr(LapicReg.DFR, 0x00000000);
  assert.equal(rd(LapicReg.DFR), 0x0fffffff, 'cluster model; bits 27:0 read as ones');
  wr(LapicReg.SVR, 0xffffffff);
  assert.equal(rd(LapicReg.SVR), 0x3ff, 'vector, enable, focus; no EOI-broadcast suppression');
  wr(LapicReg.TPR, 0xffffffff);
  assert.equal(rd(LapicReg.TPR), 0xff);
  wr(LapicReg.TPR, 0);
  wr(LapicReg.TIMER_DIVIDE, 0xffffffff);
  assert.equal(rd(LapicReg.TIMER_DIVIDE), 0b1011);
  wr(LapicReg.ICR_HIGH, 0xffffffff);
  assert.equal(rd(LapicReg.ICR_HIGH), 0xff000000);
  // LVT entries keep only their fields; delivery status and remote IRR are read-only.
  wr(LapicReg.LVT_TIMER, 0xffffffff);
  assert.equal(rd(LapicReg.LVT_TIMER), 0x000700ff);
  wr(LapicReg.LVT_LINT0, 0xffffffff);
  assert.equal(rd(LapicReg.LVT_LINT0), 0x0001a7ff);
  wr(LapicReg.LVT_ERROR, 0xffffffff);
  assert.equal(rd(LapicReg.LVT_ERROR), 0x000100ff);
  wr(LapicReg.LVT_PERF, 0xffffffff);
  assert.equal(rd(LapicReg.LVT_PERF), 0x000107ff);
});

test('software-disabled: LVT masks are forced on, and SVR disable masks every entry', () => {
  const { rd, wr } = rig();
  wr(LapicReg.LVT_LINT0, 0x700);
  assert.equal(rd(LapicReg.LVT_LINT0), 0x10700, 'mask cannot be cleared while SVR bit 8 is clear');
  wr(LapicReg.SVR, SVR_ON);
  wr(LapicReg.LVT_LINT0, 0x700);
  wr(LapicReg.LVT_TIMER, 0xef);
  assert.equal(rd(LapicReg.LVT_LINT0), 0x700);
  wr(LapicReg.SVR, 0xff);
  assert.equal(rd(LapicReg.LVT_LINT0), 0x10700);
  assert.equal(rd(LapicReg.LVT_TIMER), 0x100ef);
});

test('an SVR write with the enable bit clear masks the LVT even if it was already disabled', () => {
  const t = rig();
  t.lapic.setVirtualWire();
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0x700, 'the firmware state: unmasked on a software-disabled APIC');
  t.wr(LapicReg.SVR, 0xff);
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0x10700);
  assert.equal(t.rd(LapicReg.LVT_LINT1), 0x10400);
});

test('read-only registers drop writes; unimplemented offsets set ESR bit 7', () => {
  const t = rig();
  t.wr(LapicReg.VERSION, 0);
  t.wr(LapicReg.PPR, 0xff);
  t.wr(LapicReg.IRR0 + 0x10, 0xffffffff);
  t.wr(LapicReg.TIMER_CURRENT, 5);
  assert.equal(t.rd(LapicReg.VERSION), 0x60014);
  assert.equal(t.rd(LapicReg.PPR), 0);
  assert.equal(t.rd(LapicReg.IRR0 + 0x10), 0);
  assert.equal(t.rd(LapicReg.TIMER_CURRENT), 0);
  assert.equal(t.rd(LapicReg.ESR), 0, 'read-only registers are not errors');
  assert.equal(t.rd(0x40), 0, 'reserved offset 0x40 reads 0');
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0x80, 'illegal register address latched by the ESR write');
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0, 'and cleared by the next write');
  t.wr(0x3f0, 1);
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0x80);
});

test('ESR: errors accumulate until a write latches them; the error LVT interrupts', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_ERROR, 0xfe);
  assert.equal(t.lapic.accept(3, 'edge'), false, 'vector 3 is illegal');
  t.wr(LapicReg.ICR_LOW, 0x4005); // fixed IPI with vector 5
  assert.equal(t.ipis.length, 0, 'an illegal vector is not sent');
  assert.equal(t.rd(LapicReg.ESR), 0, 'nothing visible before the ESR write');
  assert.equal(t.lapic.pendingVector(), 0xfe, 'the error interrupt is pending');
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0x60, 'send illegal vector | receive illegal vector');
});

test('an error LVT with an illegal vector does not recurse', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_ERROR, 0x02);
  t.rd(0x50);
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0xc0);
  assert.equal(t.lapic.pendingVector(), undefined);
});

test('accesses that are not aligned 32-bit ones', () => {
  const t = rig({ apicId: 0x12 });
  // A byte read inside the register returns that byte (model-specific on hardware; KVM does this).
  const b = new Uint8Array(1);
  t.lapic.read(LapicReg.ID + 3, b);
  assert.equal(b[0], 0x12);
  // An 8-byte read: the register, then zeros for the reserved bytes of its 16-byte slot.
  const q = new Uint8Array(8).fill(0xaa);
  t.lapic.read(LapicReg.VERSION, q);
  assert.deepEqual([...q], [0x14, 0, 6, 0, 0, 0, 0, 0]);
  // Writes other than aligned 32-bit stores are dropped.
  t.lapic.write(LapicReg.TPR, new Uint8Array([0x20]));
  t.lapic.write(LapicReg.TPR + 4, new Uint8Array([1, 2, 3, 4]));
  assert.equal(t.rd(LapicReg.TPR), 0);
  assert.ok(t.diagnostics.length >= 4, 'each is reported');
  assert.equal(t.lapic.ignoredAccesses, t.diagnostics.length);
  // Outside the page is the monitor's bug, not the guest's.
  assert.throws(() => t.lapic.read(4094, new Uint8Array(4)), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  assert.throws(() => t.lapic.write(-4, new Uint8Array(4)), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  assert.throws(() => t.lapic.read(0, new Uint8Array(0)), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});

test('TPR writes through the page are reported for CR8; CR8 writes set TPR', () => {
  const t = rig();
  t.wr(LapicReg.TPR, 0x35);
  assert.deepEqual(t.tprChanges, [0x35]);
  assert.equal(t.lapic.cr8, 3);
  t.lapic.cr8 = 0xa;
  assert.equal(t.rd(LapicReg.TPR), 0xa0);
  assert.deepEqual(t.tprChanges, [0x35], 'a CR8 write came from the CPU: not echoed');
});

test('constructor arguments are checked', () => {
  assert.throws(() => rig({ apicId: 255 }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && /255/.test(e.message));
  assert.throws(() => rig({ base: 0xfee00010 }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
  assert.throws(() => rig({ tsc: { hz: 0, offset: () => 0n } }), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});
