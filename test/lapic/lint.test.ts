/**
 * LINT0/LINT1: the virtual wire (LINT0 ExtINT carrying the 8259's INTR, LINT1 NMI), fixed
 * edge and level inputs with remote IRR, polarity, masking, and the pins of a globally disabled APIC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { LapicReg, rig, SVR_ON } from './fixture.js';

test('virtual wire as a BIOS leaves it: ExtINT follows the PIC output level, not TPR', () => {
  const t = rig();
  t.lapic.setVirtualWire();
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0x700);
  assert.equal(t.rd(LapicReg.LVT_LINT1), 0x400);
  assert.equal(t.lapic.hasExtInt(), false);
  t.lapic.lint0Line.set(true);
  assert.equal(t.lapic.hasExtInt(), true, 'PIC INTR asserted: the monitor asks the PIC for the vector');
  t.lapic.cr8 = 15;
  assert.equal(t.lapic.hasExtInt(), true, 'ExtINT is not subject to TPR');
  assert.equal(t.lapic.pendingVector(), undefined, 'and never appears in IRR');
  t.lapic.lint0Line.set(false);
  assert.equal(t.lapic.hasExtInt(), false);
  t.lapic.lint1Line.pulse();
  assert.equal(t.lapic.takeNmi(), true, 'LINT1 NMI');
});

test('Linux setup: SVR on, LVT0 ExtINT, LVT1 NMI; masking LINT0 hides the PIC', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT0, 0x700);
  t.wr(LapicReg.LVT_LINT1, 0x400);
  t.lapic.lint0(true);
  assert.equal(t.lapic.hasExtInt(), true);
  t.wr(LapicReg.LVT_LINT0, 0x10700);
  assert.equal(t.lapic.hasExtInt(), false);
  t.wr(LapicReg.LVT_LINT1, 0x10400);
  t.lapic.lint1(true);
  assert.equal(t.lapic.takeNmi(), false, 'masked LINT1');
});

test('LINT fixed edge: one interrupt per active edge; active-low polarity inverts', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT0, 0x41);
  t.lapic.lint0(true);
  assert.equal(t.lapic.acknowledge(), 0x41);
  t.lapic.lint0(true);
  assert.equal(t.lapic.pendingVector(), undefined, 'same level is no edge');
  t.wr(LapicReg.EOI, 0);
  t.lapic.lint0(false);
  t.wr(LapicReg.LVT_LINT0, 0x2041);
  assert.equal(t.lapic.pendingVector(), undefined);
  t.lapic.lint0(true);
  assert.equal(t.lapic.pendingVector(), undefined, 'rising is the inactive edge for active-low');
  t.lapic.lint0(false);
  assert.equal(t.lapic.pendingVector(), 0x41);
});

test('LINT fixed level: remote IRR holds until EOI, which redelivers while asserted', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT0, 0x8052);
  t.lapic.lint0(true);
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0xc052, 'remote IRR set');
  assert.equal(t.lapic.acknowledge(), 0x52);
  t.wr(LapicReg.EOI, 0);
  assert.deepEqual(t.eois, [0x52]);
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0xc052, 'still asserted: delivered again');
  assert.equal(t.lapic.acknowledge(), 0x52);
  t.lapic.lint0(false);
  t.wr(LapicReg.EOI, 0);
  assert.equal(t.rd(LapicReg.LVT_LINT0), 0x8052);
  assert.equal(t.lapic.pendingVector(), undefined);
});

test('unmasking a LINT whose level source is asserted delivers', () => {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT1, 0x18060);
  t.lapic.lint1(true);
  assert.equal(t.lapic.pendingVector(), undefined);
  t.wr(LapicReg.LVT_LINT1, 0x8060);
  assert.equal(t.lapic.pendingVector(), 0x60);
});

test('LINT in INIT mode resets the APIC; SMI mode is refused clearly', () => {
  const t = rig({ bsp: false });
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT1, 0x500);
  t.lapic.lint1(true);
  assert.equal(t.lapic.takeInit(), true);
  assert.equal(t.lapic.waitingForSipi, true);
  assert.equal(t.rd(LapicReg.SVR), 0xff);
  t.wr(LapicReg.SVR, SVR_ON);
  t.wr(LapicReg.LVT_LINT0, 0x200);
  assert.throws(() => t.lapic.lint0(true), (e: unknown) => e instanceof VmmError && e.code === 'ENOTSUP' && /SMI/.test(e.message));
});

test('globally disabled APIC: LINT0 is INTR and LINT1 is NMI directly', () => {
  const t = rig();
  t.lapic.writeApicBaseMsr(0xfee00100n);
  t.lapic.lint0(true);
  assert.equal(t.lapic.hasExtInt(), true);
  t.lapic.lint1(true);
  assert.equal(t.lapic.takeNmi(), true);
});

test('ExtINT messages (IOAPIC pin in ExtINT mode) are pending until acknowledged', () => {
  const t = rig();
  t.lapic.receive({ destination: 0, destMode: 'physical', deliveryMode: 'extint', vector: 0, level: true, trigger: 'edge' });
  assert.equal(t.lapic.hasExtInt(), true);
  t.lapic.acknowledgeExtInt();
  assert.equal(t.lapic.hasExtInt(), false);
});
