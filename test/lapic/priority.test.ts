/**
 * Interrupt acceptance and priority (SDM "Interrupt, Task, and Processor Priority", "Interrupt
 * Acceptance for Fixed Interrupts", "Signaling Interrupt Servicing Completion", "Spurious
 * Interrupt"): IRR/ISR/TMR bits, PPR from TPR and ISR, priority classes, INTA, EOI order, level EOI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmError } from '../../src/api/errors.js';
import { LapicReg, rig, SVR_ON, type Rig } from './fixture.js';

function enabled(): Rig {
  const t = rig();
  t.wr(LapicReg.SVR, SVR_ON);
  return t;
}
const bit = (t: Rig, base: number, v: number): boolean => ((t.rd(base + 16 * (v >>> 5)) >>> (v & 31)) & 1) === 1;

test('accept sets IRR (and TMR for level); INTA moves IRR to ISR; EOI retires it', () => {
  const t = enabled();
  assert.equal(t.lapic.accept(0x31, 'edge'), true);
  assert.equal(t.lapic.accept(0x62, 'level'), true);
  assert.ok(bit(t, LapicReg.IRR0, 0x31) && bit(t, LapicReg.IRR0, 0x62));
  assert.ok(!bit(t, LapicReg.TMR0, 0x31) && bit(t, LapicReg.TMR0, 0x62));
  assert.equal(t.lapic.pendingVector(), 0x62, 'highest first');
  assert.equal(t.lapic.acknowledge(), 0x62);
  assert.ok(!bit(t, LapicReg.IRR0, 0x62) && bit(t, LapicReg.ISR0, 0x62));
  assert.equal(t.rd(LapicReg.PPR), 0x60, 'PPR = ISRV class when above TPR');
  assert.equal(t.lapic.pendingVector(), undefined, '0x31 is below the in-service class');
  t.wr(LapicReg.EOI, 0);
  assert.deepEqual(t.eois, [0x62], 'level-triggered EOI goes to onEoi');
  assert.equal(t.lapic.pendingVector(), 0x31);
  assert.equal(t.lapic.acknowledge(), 0x31);
  t.wr(LapicReg.EOI, 0);
  assert.deepEqual(t.eois, [0x62], 'edge EOIs are not forwarded');
  assert.equal(t.rd(LapicReg.ISR0 + 0x10), 0);
});

test('nesting: a higher class preempts, EOI retires the highest in-service vector first', () => {
  const t = enabled();
  t.lapic.accept(0x40, 'edge');
  assert.equal(t.lapic.acknowledge(), 0x40);
  t.lapic.accept(0x4f, 'edge');
  assert.equal(t.lapic.pendingVector(), undefined, 'same class as the in-service vector: held');
  t.lapic.accept(0x50, 'edge');
  assert.equal(t.lapic.acknowledge(), 0x50);
  assert.equal(t.rd(LapicReg.PPR), 0x50);
  t.wr(LapicReg.EOI, 0);
  assert.ok(!bit(t, LapicReg.ISR0, 0x50) && bit(t, LapicReg.ISR0, 0x40));
  t.wr(LapicReg.EOI, 0);
  assert.equal(t.lapic.acknowledge(), 0x4f);
});

test('TPR: only classes strictly above TPR[7:4] are delivered; PPR follows the SDM formula', () => {
  const t = enabled();
  t.lapic.accept(0x45, 'edge');
  t.wr(LapicReg.TPR, 0x45);
  assert.equal(t.rd(LapicReg.PPR), 0x45, 'TPR class >= ISRV class: PPR = TPR');
  assert.equal(t.lapic.pendingVector(), undefined);
  t.wr(LapicReg.TPR, 0x3f);
  assert.equal(t.lapic.pendingVector(), 0x45);
  t.lapic.acknowledge();
  t.wr(LapicReg.TPR, 0x20);
  assert.equal(t.rd(LapicReg.PPR), 0x40, 'ISRV class above TPR: PPR = ISRV & 0xF0');
  t.wr(LapicReg.TPR, 0x4a);
  assert.equal(t.rd(LapicReg.PPR), 0x4a, 'equal classes: TPR wins');
});

test('spurious: raising TPR between pendingVector() and INTA yields the SVR vector, ISR untouched', () => {
  const t = enabled();
  t.wr(LapicReg.SVR, 0x1f7);
  t.lapic.accept(0x80, 'edge');
  assert.equal(t.lapic.pendingVector(), 0x80);
  t.wr(LapicReg.TPR, 0x80);
  assert.equal(t.lapic.acknowledge(), 0xf7);
  assert.ok(bit(t, LapicReg.IRR0, 0x80), 'still requested');
  assert.equal(t.rd(LapicReg.ISR0 + 0x40), 0);
  // A higher vector arriving before INTA is what INTA returns.
  t.wr(LapicReg.TPR, 0);
  t.lapic.accept(0x90, 'edge');
  assert.equal(t.lapic.acknowledge(), 0x90);
});

test('a second request for a vector already in IRR merges; one in ISR and one in IRR coexist', () => {
  const t = enabled();
  t.lapic.accept(0x70, 'edge');
  t.lapic.accept(0x70, 'edge');
  assert.equal(t.lapic.acknowledge(), 0x70);
  assert.equal(t.lapic.pendingVector(), undefined, 'merged');
  t.lapic.accept(0x70, 'edge');
  assert.ok(bit(t, LapicReg.IRR0, 0x70) && bit(t, LapicReg.ISR0, 0x70));
  t.wr(LapicReg.EOI, 0);
  assert.equal(t.lapic.acknowledge(), 0x70);
});

test('illegal vectors 0-15 are refused with ESR; vectors out of 0..255 are the caller bug', () => {
  const t = enabled();
  for (let v = 0; v < 16; v++) assert.equal(t.lapic.accept(v, 'edge'), false);
  assert.equal(t.rd(LapicReg.IRR0), 0);
  t.wr(LapicReg.ESR, 0);
  assert.equal(t.rd(LapicReg.ESR), 0x40);
  assert.throws(() => t.lapic.accept(256, 'edge'), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL' && /256/.test(e.message));
  assert.throws(() => t.lapic.accept(-1, 'edge'), VmmError);
});

test('EOI with nothing in service is ignored (and reported)', () => {
  const t = enabled();
  t.wr(LapicReg.EOI, 0);
  assert.deepEqual(t.eois, []);
  assert.equal(t.diagnostics.length, 1);
});

test('software-disabled: new fixed interrupts are dropped, pending ones stay deliverable', () => {
  const t = enabled();
  t.lapic.accept(0x41, 'edge');
  t.wr(LapicReg.SVR, 0xff);
  assert.equal(t.lapic.accept(0x42, 'edge'), false);
  assert.equal(t.lapic.pendingVector(), 0x41);
  t.lapic.receive({ destination: 0, destMode: 'physical', deliveryMode: 'nmi', vector: 0, level: true, trigger: 'edge' });
  assert.equal(t.lapic.takeNmi(), true, 'NMI is still accepted');
  assert.equal(t.lapic.takeNmi(), false);
});

test('APR: TPR when it dominates, else the highest class of TPR, ISRV, IRRV', () => {
  const t = enabled();
  t.wr(LapicReg.TPR, 0x35);
  assert.equal(t.rd(LapicReg.APR), 0x35);
  t.lapic.accept(0x62, 'edge');
  assert.equal(t.rd(LapicReg.APR), 0x60);
  t.lapic.acknowledge();
  t.lapic.accept(0x20, 'edge');
  assert.equal(t.rd(LapicReg.APR), 0x60, 'ISRV class');
  assert.equal(t.lapic.arbitrationPriority, 0x60);
});

test('onWake fires when something becomes deliverable', () => {
  const t = enabled();
  const before = t.wakes.count;
  t.lapic.accept(0x33, 'edge');
  assert.ok(t.wakes.count > before);
});

test('globally disabled: nothing is accepted or pending; acknowledge() is a monitor error', () => {
  const t = enabled();
  t.lapic.accept(0x55, 'edge');
  assert.deepEqual(t.lapic.writeApicBaseMsr(0xfee00000n | 0x100n), { ok: true });
  assert.equal(t.lapic.pendingVector(), undefined);
  assert.equal(t.lapic.accept(0x56, 'edge'), false);
  assert.throws(() => t.lapic.acknowledge(), (e: unknown) => e instanceof VmmError && e.code === 'EINVAL');
});
