/**
 * IA32_APIC_BASE (MSR 0x1B): the value read, reserved bits and x2APIC refused (#GP for the
 * monitor to inject), relocation, global disable (state reset, page not decoded) and re-enable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { MSR_IA32_APIC_BASE, MSR_IA32_TSC_DEADLINE } from '../../src/vmm/irq/lapic.js';
import { LapicReg, rig, SVR_ON } from './fixture.js';

test('MSR numbers', () => {
  assert.equal(MSR_IA32_APIC_BASE, 0x1b);
  assert.equal(MSR_IA32_TSC_DEADLINE, 0x6e0);
});

test('reads: base, BSP bit, enable bit', () => {
  assert.equal(rig({ bsp: true }).lapic.readApicBaseMsr(), 0xfee00900n);
  assert.equal(rig({ bsp: false }).lapic.readApicBaseMsr(), 0xfee00800n);
});

test('refused writes: reserved bits, x2APIC enable, bits above MAXPHYADDR', () => {
  const { lapic } = rig();
  for (const v of [0xfee00901n, 0xfee00b00n, 0xfee00980n, 1n << 40n | 0xfee00900n, 1n << 63n]) {
    const r = lapic.writeApicBaseMsr(v);
    assert.equal(r.ok, false, `0x${v.toString(16)}`);
  }
  const x2 = lapic.writeApicBaseMsr(0xfee00d00n);
  assert.ok(!x2.ok && /x2APIC/.test(x2.reason), 'x2APIC enable is refused by name');
  assert.equal(lapic.readApicBaseMsr(), 0xfee00900n, 'nothing changed');
  assert.equal(rig({ maxPhysAddrBits: 46 }).lapic.writeApicBaseMsr((1n << 45n) | 0x900n).ok, true);
});

test('relocation: the monitor is told, the page answers at its new base', () => {
  const t = rig();
  assert.deepEqual(t.lapic.writeApicBaseMsr(0xfec10900n), { ok: true });
  assert.deepEqual(t.relocations, [0xfec10000]);
  assert.equal(t.lapic.base, 0xfec10000);
  assert.equal(t.lapic.readApicBaseMsr(), 0xfec10900n);
  const quiet = rig({ onRelocate: undefined });
  assert.throws(() => quiet.lapic.writeApicBaseMsr(0xfec10900n), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /0xfec10000/.test(e.message));
});

test('global disable resets the APIC; the page is not decoded; re-enable comes back in reset state', () => {
  const t = rig({ apicId: 4 });
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.ID, 0x09000000);
  t.wr(LapicReg.TPR, 0x20);
  t.lapic.accept(0x40, 'edge');
  assert.deepEqual(t.lapic.writeApicBaseMsr(0xfee00100n), { ok: true });
  assert.equal(t.lapic.globallyEnabled, false);
  assert.equal(t.lapic.readApicBaseMsr(), 0xfee00100n);
  assert.equal(t.rd(LapicReg.VERSION), 0, 'not decoded: reads 0');
  t.wr(LapicReg.SVR, SVR_ON);
  assert.deepEqual(t.lapic.writeApicBaseMsr(0xfee00900n), { ok: true });
  assert.equal(t.rd(LapicReg.SVR), 0xff, 'the write while disabled was dropped; reset state');
  assert.equal(t.rd(LapicReg.ID), 0x04000000, 'power-up ID');
  assert.equal(t.rd(LapicReg.TPR), 0);
  assert.equal(t.lapic.pendingVector(), undefined);
});

test('the BSP flag is writable, as KVM allows', () => {
  const t = rig({ bsp: true });
  t.lapic.writeApicBaseMsr(0xfee00800n);
  assert.equal(t.lapic.isBsp, false);
});
